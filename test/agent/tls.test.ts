import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { readTls } from '../../src/transport/tls';
import { freePort } from '../../src/bench/mosquitto';
import { baseDoc, brokerSuite, tempDir } from './fixture';

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
  const f = (n: string) => path.join(pki, n);
  const h = brokerSuite({
    needs: () => haveOpenssl,
    config: async () => {
      makePki(pki, 'good');
      makePki(pki, 'other');
      tlsPort = await freePort();
      return `listener ${tlsPort} 127.0.0.1\ncafile ${f('good-ca.pem')}\ncertfile ${f('good-server.pem')}\nkeyfile ${f('good-server.key')}\nrequire_certificate true\n`;
    },
  });

  const url = () => `mqtts://127.0.0.1:${tlsPort}`;

  it('gets its document over TLS with its certificate', async () => {
    const agent = h.agent();
    const op = await h.operator(agent.topics.device); /* the operator on the plain listener */
    await op.push(baseDoc(3));
    agent.boot();
    agent.connect({ url: url(), tls: readTls({ ca: 'good-ca.pem', cert: 'good-client.pem', key: 'good-client.key' }, pki) });
    const s = await op.state((st) => st.version === 3);
    assert.ok(Object.values(s.items).every((i) => i.state === 'CONFIGURED'));
  });

  it('is refused without a client certificate, and does not trust a broker its CA did not sign', async () => {
    for (const tls of [{ ca: 'good-ca.pem' }, { ca: 'other-ca.pem', cert: 'good-client.pem', key: 'good-client.key' }]) {
      const agent = h.agent();
      agent.boot();
      agent.connect({ url: url(), tls: readTls(tls, pki), backoff: { minMs: 100, maxMs: 200 } });
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(agent.mqtt!.connected, false, JSON.stringify(tls));
      assert.ok(agent.mqtt!.lastError, 'the reason is kept for the console and logs');
    }
    assert.throws(() => readTls({ ca: 'nosuch.pem' }, pki), /TLS CA .*nosuch\.pem/);
  });
});
