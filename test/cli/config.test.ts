import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import mqtt from 'mqtt';

import { TelemetrySample } from '../../src/telemetry/collect';
import { decodeCbor } from '../../src/transport/codec';
import { CLI, testDir, vecgate } from '../helpers';

/* What a newcomer sees: `npm start` (run --board sim) brings up an embedded
 * broker holding the sample document and configures itself; `vecgate config
 * push` changes it and prints the box's answer. Separate processes, as an
 * operator has them. */
const run = (args: string[]) => vecgate(args, { VECGATE_VARIANT: '' });

describe('cli: npm start and config push', function () {
  this.timeout(30_000);
  let box: ChildProcess;
  let out = '';
  let url = '';
  const dir = testDir('push');
  const logged = () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

  async function until(what: string, cond: () => boolean): Promise<void> {
    const end = Date.now() + 15_000;
    while (!cond()) {
      if (Date.now() > end || box.exitCode !== null) assert.fail(`${what}: not seen in\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  before(async () => {
    delete process.env.VECGATE_VARIANT;
    const args = ['run', '--board', 'sim', '--state-dir', dir, '--embedded-port', '0', '--telemetry', '*/1 * * * * *'];
    box = spawn(process.execPath, [CLI, ...args], { env: { ...process.env } });
    box.stdout!.on('data', (d) => (out += d));
    box.stderr!.on('data', (d) => (out += d));
    await until('embedded broker', () => logged().some((l) => l.msg?.startsWith('no broker configured')));
    url = logged().find((l) => l.msg?.startsWith('no broker configured'))!.url;
  });
  after(async () => {
    box.kill('SIGTERM');
    await new Promise((r) => box.on('exit', r));
  });

  it('configures itself from the sample document through the embedded broker (MQTT 3.1.1 fallback)', async () => {
    await until('sample applied', () => logged().some((l) => l.msg === 'configuration applied'));
    const applied = logged().find((l) => l.msg === 'configuration applied')!;
    const sample = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'examples', 'sim-device.json'), 'utf8'));
    assert.equal(applied.version, sample.version);
    assert.equal(applied.PENDING, 1, 'the sample route over uplink0 waits for it');
    assert.ok(applied.CONFIGURED > 10);
    assert.ok(logged().some((l) => l.msg === 'broker refused MQTT 5; using 3.1.1'));
    assert.ok(fs.existsSync(path.join(dir, 'config.json')), 'persisted');
  });

  it('config push publishes a YAML document as CBOR and prints the box\'s answer', async () => {
    const file = path.join(dir, 'next.yaml');
    fs.writeFileSync(
      file,
      ['version: 2', 'items:', '  interfaces/uplink0:', '    type: loopback', '    addresses: [198.18.0.1/24]', '  routes/0/172.16.0.0/12:', '    nextHops:', '      - interface: uplink0', ''].join('\n'),
    );
    const r = await run(['config', 'push', file, '--device', 'sim-1', '--fleet', 'demo', '--broker', url]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /device sim-1 applied version 2: 3 CONFIGURED, 13 REMOVED/);
    assert.doesNotMatch(r.stdout, /PENDING/);
  });

  it('config push of a bad document exits 1 naming the path; the box keeps version 2', async () => {
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, JSON.stringify({ version: 3, items: { 'interfaces/uplink0': { type: 'loopback', mtu: 99999 } } }));
    const r = await run(['config', 'push', file, '--device', 'sim-1', '--fleet', 'demo', '--broker', url]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /refused the document \(device\); it still runs version 2/);
    assert.match(r.stdout, /items\["interfaces\/uplink0"\]\.mtu: must be an integer in 68\.\.9000/);
  });

  it('publishes telemetry on its schedule: system figures and the dataplane counters', async () => {
    const client = await mqtt.connectAsync(url);
    try {
      await client.subscribeAsync('vecgate/demo/device/sim-1/telemetry');
      const sample = await new Promise<TelemetrySample>((resolve) => client.once('message', (_t, p) => resolve(decodeCbor(p) as TelemetrySample)));
      assert.ok(sample.system.memory!.totalBytes > 0 && sample.system.uptimeSeconds! > 0);
      const pg0 = sample.dataplane!.interfaces.find((i) => i.name === 'pg0');
      assert.ok(pg0 && pg0.rxPackets > 0, 'the sim board\'s generator port counts what it received');
    } finally {
      await client.endAsync();
    }
  });

  it('config push to an unreachable broker times out with the reason', async () => {
    const file = path.join(dir, 'next.yaml');
    const r = await run(['config', 'push', file, '--device', 'sim-1', '--broker', 'mqtt://127.0.0.1:1', '--timeout', '1']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /broker mqtt:\/\/127\.0\.0\.1:1 not reached/);
  });
});

describe('cli: signed documents end to end (keygen, sign, push)', function () {
  this.timeout(30_000);
  const dir = testDir('sign');
  let box: ChildProcess;
  let out = '';
  let url = '';

  before(async () => {
    const k = await run(['config', 'keygen', '--out', dir, '--name', 'fleet']);
    assert.equal(k.status, 0, k.stderr);
    /* A board that trusts that key and takes nothing unsigned. */
    const sim = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'board', 'sim.json'), 'utf8'));
    sim.agent = { ...sim.agent, device: 'signed-1', allowUnsigned: false, trustAnchors: [path.join(dir, 'fleet.pub.pem')], sampleDocument: null };
    fs.writeFileSync(path.join(dir, 'board.json'), JSON.stringify(sim));
    box = spawn(process.execPath, [CLI, 'run', '--board', path.join(dir, 'board.json'), '--state-dir', dir, '--embedded-port', '0', '--no-telemetry'], { env: { ...process.env } });
    box.stdout!.on('data', (d) => (out += d));
    box.stderr!.on('data', (d) => (out += d));
    const end = Date.now() + 15_000;
    while (!/embedded broker on (mqtt:\/\/[\d.:]+)/.test(out)) {
      if (Date.now() > end || box.exitCode !== null) assert.fail(`no embedded broker:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    url = /embedded broker on (mqtt:\/\/[\d.:]+)/.exec(out)![1]!;
  });
  after(async () => {
    box.kill('SIGTERM');
    await new Promise((r) => box.on('exit', r));
  });

  it('applies a document signed with the anchor\'s key and refuses an unsigned one', async () => {
    const doc = path.join(dir, 'doc.json');
    fs.writeFileSync(doc, JSON.stringify({ version: 5, items: { 'interfaces/lan0': { type: 'loopback', addresses: ['10.5.0.1/24'] } } }));
    const s = await run(['config', 'sign', doc, '--key', path.join(dir, 'fleet.key.pem'), '--out', path.join(dir, 'doc.cbor')]);
    assert.equal(s.status, 0, s.stderr);
    const ok = await run(['config', 'push', path.join(dir, 'doc.cbor'), '--device', 'signed-1', '--broker', url]);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /applied version 5: 2 CONFIGURED/);
    fs.writeFileSync(doc, JSON.stringify({ version: 6, items: {} }));
    const bad = await run(['config', 'push', doc, '--device', 'signed-1', '--broker', url]);
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /still runs version 5/);
    assert.match(bad.stdout, /signature: unsigned document, and this device requires a signature/);
  });
});
