import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { Agent } from '../../src/agent/agent';
import { readTls } from '../../src/transport/tls';
import { withoutVariantPin } from '../helpers';
import { freePort, haveMosquitto, Mosquitto } from '../peers/mosquitto';
import { baseDoc, makeAgent, Operator, tempDir } from './fixture';

/* mqtts with certificates on both sides, against mosquitto with
 * require_certificate: a box with its certificate gets its config; one
 * without is refused, and a broker the CA did not sign is not trusted. */
const haveOpenssl = spawnSync('sh', ['-c', 'command -v openssl']).status === 0;

function sh(cmd: string, cwd: string): void {
  const r = spawnSync('bash', ['-c', cmd], { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
}

/* A CA, a server certificate for 127.0.0.1 and a client certificate, P-256. */
function makePki(dir: string, name: string): void {
  const ec = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
  sh(`openssl req -x509 ${ec} -keyout ${name}-ca.key -out ${name}-ca.pem -days 2 -subj /CN=${name}-ca`, dir);
  for (const who of ['server', 'client']) {
    sh(`openssl req ${ec} -keyout ${name}-${who}.key -out ${name}-${who}.csr -subj /CN=${who === 'server' ? '127.0.0.1' : 'box-1'}`, dir);
    sh(
      `openssl x509 -req -in ${name}-${who}.csr -CA ${name}-ca.pem -CAkey ${name}-ca.key -CAcreateserial -out ${name}-${who}.pem -days 2 ` +
        (who === 'server' ? `-extfile <(printf 'subjectAltName=IP:127.0.0.1')` : ''),
      dir,
    );
  }
}

describe('agent over mqtts with client certificates', function () {
  this.timeout(30_000);
  const pki = tempDir();
  let tlsPort = 0;
  let broker: Mosquitto;
  let agent: Agent | undefined;
  let op: Operator | undefined;

  before(async function () {
    if (!haveMosquitto() || !haveOpenssl) this.skip();
    withoutVariantPin();
    makePki(pki, 'good');
    makePki(pki, 'other');
    tlsPort = await freePort();
    const f = (n: string) => path.join(pki, n);
    broker = await Mosquitto.start(undefined, () =>
      `listener ${tlsPort} 127.0.0.1\ncafile ${f('good-ca.pem')}\ncertfile ${f('good-server.pem')}\nkeyfile ${f('good-server.key')}\nrequire_certificate true\n`,
    );
  });
  after(async () => broker?.close());
  afterEach(async () => {
    await agent?.stop();
    agent?.closeDataplane();
    agent = undefined;
    await op?.close();
    op = undefined;
  });

  const url = () => `mqtts://127.0.0.1:${tlsPort}`;

  it('gets its document over TLS with its certificate', async () => {
    agent = makeAgent();
    op = await Operator.connect(broker.url, agent.topics.device); /* the operator on the plain listener */
    await op.push(baseDoc(3));
    agent.boot();
    agent.connect({ url: url(), tls: readTls({ ca: 'good-ca.pem', cert: 'good-client.pem', key: 'good-client.key' }, pki) });
    const s = await op.state((st) => st.version === 3);
    assert.ok(Object.values(s.items).every((i) => i.state === 'CONFIGURED'));
  });

  it('is refused without a client certificate, and does not trust a broker its CA did not sign', async () => {
    for (const tls of [{ ca: 'good-ca.pem' }, { ca: 'other-ca.pem', cert: 'good-client.pem', key: 'good-client.key' }]) {
      agent = makeAgent();
      agent.boot();
      agent.connect({ url: url(), tls: readTls(tls, pki), backoff: { minMs: 100, maxMs: 200 } });
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(agent.mqtt!.connected, false, JSON.stringify(tls));
      assert.ok(agent.mqtt!.lastError, 'the reason is kept for the console and logs');
      await agent.stop();
      agent.closeDataplane();
      agent = undefined;
    }
    assert.throws(() => readTls({ ca: 'nosuch.pem' }, pki), /TLS CA .*nosuch\.pem/);
  });
});
