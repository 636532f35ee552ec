import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';

import { Agent } from '../../src/agent/agent';
import { sha256 } from '../../src/agent/layers';
import { StateReport } from '../../src/agent/state-report';
import { encodeCbor } from '../../src/transport/codec';
import { signSign1 } from '../../src/transport/cose';
import { baseDoc, brokerSuite, Operator, readBack } from './fixture';

/* Each bad document is refused with a state report naming where and why,
 * and neither the running configuration nor the dataplane moves. */
describe('agent refuses bad documents and keeps running what it has', function () {
  const h = brokerSuite();
  let agent: Agent | undefined;
  let op: Operator | undefined;
  const fleetKey = crypto.generateKeyPairSync('ed25519');
  const strangerKey = crypto.generateKeyPairSync('ed25519');


  async function startWith(first: Buffer, signed: boolean): Promise<void> {
    agent = h.agent(signed ? { allowUnsigned: false, anchors: [{ name: 'fleet', publicKey: fleetKey.publicKey }] } : {});
    op = await h.operator(agent.topics.device);
    await op.pushBytes(first);
    agent.boot();
    agent.connect({ url: h.broker.url });
    await op.state((s) => s.version === 5);
  }

  async function refused(bytes: Buffer): Promise<StateReport> {
    const before = readBack(agent!.dataplane);
    const digest = sha256(bytes);
    await op!.pushBytes(bytes);
    const s = await op!.state((st) => st.rejected?.sha256 === digest);
    assert.equal(s.version, 5, 'still reports the running version');
    assert.ok(Object.values(s.items).every((i) => i.state === 'CONFIGURED'));
    assert.deepEqual(readBack(agent!.dataplane), before, 'the dataplane did not move');
    return s;
  }

  function withItems(change: (items: Record<string, unknown>) => void): Buffer {
    const d = baseDoc(6);
    change(d.items);
    return encodeCbor(d);
  }

  it('names the path and reason of every kind of bad document', async () => {
    await startWith(encodeCbor(baseDoc(5)), false);
    const cases: [string, Buffer, RegExp, RegExp][] = [
      ['not CBOR', Buffer.from([0xff, 0x00, 0x12, 0x9f]), /^document$/, /CBOR/],
      ['a CBOR value that is not a document', encodeCbor([1, 2, 3]), /^document$/, /object/],
      ['wrong type', withItems((i) => (i['interfaces/wan0'] = { type: 'loopback', mtu: '9000' })), /^items\["interfaces\/wan0"\]\.mtu$/, /integer/],
      ['unknown kind', withItems((i) => (i['tunnels/t0'] = {})), /^items\["tunnels\/t0"\]$/, /unknown kind tunnels/],
      ['unknown field', withItems((i) => (i['interfaces/lan0'] = { type: 'loopback', colour: 'red' })), /^items\["interfaces\/lan0"\]\.colour$/, /unknown field/],
      ['out of range', withItems((i) => (i['interfaces/wan0'] = { type: 'loopback', mtu: 20000 })), /^items\["interfaces\/wan0"\]\.mtu$/, /68\.\.9000/],
      ['a bad address', withItems((i) => (i['routes/0/10.0.0.0/8'] = { nextHops: [{ via: '10.0.0.300' }] })), /nextHops\[0\]\.via$/, /IPv4/],
      ['over 1 MiB', withItems((i) => (i['system/settings'] = { hostname: 'x'.repeat(1024 * 1024) })), /^document$/, /1048576/],
    ];
    for (const [what, bytes, path, reason] of cases) {
      const s = await refused(bytes);
      const p = s.rejected!.problems;
      assert.ok(
        p.some((x) => path.test(x.path) && reason.test(x.reason)),
        `${what}: expected a problem at ${path} matching ${reason}, got ${JSON.stringify(p)}`,
      );
      assert.equal(s.rejected!.source, 'device');
    }
    /* A good document afterwards is applied and clears the refusal. */
    await op!.push(baseDoc(8));
    const s = await op!.state((st) => st.version === 8);
    assert.equal(s.rejected, undefined);
  });

  it('takes only documents signed by a trust anchor when the device requires signatures', async () => {
    const sign = (doc: unknown, key: crypto.KeyObject) => signSign1(encodeCbor(doc), key);
    await startWith(sign(baseDoc(5), fleetKey.privateKey), true);
    const unsigned = await refused(encodeCbor(baseDoc(6)));
    assert.equal(unsigned.rejected!.problems[0]!.path, 'signature');
    assert.match(unsigned.rejected!.problems[0]!.reason, /unsigned/);
    const stranger = await refused(sign(baseDoc(6), strangerKey.privateKey));
    assert.equal(stranger.rejected!.problems[0]!.path, 'signature');
    const good = sign(baseDoc(6), fleetKey.privateKey);
    const tampered = Buffer.from(good);
    tampered[tampered.length - 70] ^= 0x01; /* inside the payload, before the 64-byte signature */
    const t = await refused(tampered);
    assert.equal(t.rejected!.problems[0]!.path, 'signature');
    await op!.pushBytes(good);
    const s = await op!.state((st) => st.version === 6);
    assert.equal(s.rejected, undefined);
  });
});
