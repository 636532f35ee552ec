import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { espPacket, LOCAL, parseAlg, PEER, PEER_MAC, saSpec, UNDERLAY_MAC } from '../../src/bench/esp';
import { ethernet, udpPacket } from '../../src/bench/frames';
import { opensslCipher, parseSpeed } from '../../src/bench/openssl-speed';
import { SCENARIOS } from '../../src/bench/registry';
import { BenchResult } from '../../src/bench/scenario';
import { testDir, withoutVariantPin } from '../helpers';

const PEER_PY = '/usr/bin/python3';
const PEER_SCRIPT = path.join(__dirname, '../../../test/peers/esp_peer.py');
const hasScapy = fs.existsSync(PEER_PY) && spawnSync(PEER_PY, ['-c', 'import scapy.layers.ipsec']).status === 0;
const ALGS = ['aes-128-gcm', 'aes-256-cbc-hmac-sha-256'];
const PACKETS = 20_000;

/* A classic pcap file of Ethernet frames. */
function pcapOf(frames: Buffer[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  const records = frames.map((f) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(f.length, 8);
    r.writeUInt32LE(f.length, 12);
    return Buffer.concat([r, f]);
  });
  return Buffer.concat([header, ...records]);
}

function run(name: string, alg: string, payload: number): Promise<BenchResult> {
  return Promise.resolve(SCENARIOS[name]!({ packets: PACKETS, warmupPackets: 1000, alg, payload, reference: false }));
}

describe('bench/esp-encrypt and esp-decrypt', function () {
  this.timeout(120_000);
  beforeEach(withoutVariantPin);

  it('names algorithms as on the command line and refuses others', () => {
    assert.deepEqual(parseAlg('aes-128-gcm'), { name: 'aes-128-gcm', crypto: 'aes-128-gcm', integrity: 'none' });
    assert.deepEqual(parseAlg('aes-256-cbc-hmac-sha-256'), { name: 'aes-256-cbc-hmac-sha-256', crypto: 'aes-256-cbc', integrity: 'hmac-sha-256-128' });
    assert.equal(parseAlg('aes-128-cbc-hmac-sha1-96').integrity, 'hmac-sha1-96');
    for (const bad of ['aes-128-cbc', 'aes-128-gcm-hmac-sha1', 'des-cbc-hmac-sha1', 'aes-128-cbc-hmac-md5']) {
      assert.throws(() => parseAlg(bad), /is not an ESP algorithm/, bad);
    }
  });

  it('reads the 8192-byte figure of openssl speed, for the matching OpenSSL cipher', () => {
    const out = "The 'numbers' are in 1000s of bytes per second processed.\ntype           8192 bytes\nAES-128-GCM    4134486.02k\n";
    assert.equal(parseSpeed(out), 4_134_486_020);
    assert.equal(parseSpeed('type 8192 bytes\n'), null);
    assert.equal(opensslCipher('aes-128-gcm', 'none'), 'aes-128-gcm');
    assert.equal(opensslCipher('aes-256-cbc', 'hmac-sha-256-128'), 'aes-256-cbc-hmac-sha256');
    assert.equal(opensslCipher('aes-256-cbc', 'hmac-sha-512-256'), 'aes-256-cbc');
  });

  for (const name of ALGS) {
    it(`the ${name} ESP the decrypt bench sends is what scapy decrypts to the inner packet`, function () {
      if (!hasScapy) {
        console.log('      (skipped: needs /usr/bin/python3 with python3-scapy)');
        this.skip();
      }
      const alg = parseAlg(name);
      const dir = testDir('bench-esp');
      const frames = [64, 1400].map((size) => Buffer.concat([ethernet(UNDERLAY_MAC, PEER_MAC), espPacket(alg, udpPacket('172.16.0.1', '192.168.0.2', 1024, 1024, size), 1)]));
      fs.writeFileSync(path.join(dir, 'in.pcap'), pcapOf(frames));
      const sa = saSpec(alg, true);
      const spec = { sas: { [sa.spi]: { ...sa, mode: 'tunnel', src: PEER, dst: LOCAL, esnHigh: null, natT: false } }, packets: [] };
      fs.writeFileSync(path.join(dir, 'spec.json'), JSON.stringify(spec));
      const r = spawnSync(PEER_PY, [PEER_SCRIPT, 'decrypt', path.join(dir, 'spec.json'), path.join(dir, 'in.pcap')], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; error?: string; seq: number; inner: { src: string; dst: string; proto: number } });
      assert.equal(rows.length, 2);
      for (const row of rows) {
        assert.ok(row.ok, row.error);
        assert.equal(row.seq, 1);
        assert.deepEqual([row.inner.src, row.inner.dst, row.inner.proto], ['172.16.0.1', '192.168.0.2', 17]);
      }
    });
  }

  for (const name of ALGS) {
    it(`esp-encrypt ${name}: every packet routed into the tunnel is encrypted and leaves (smoke, no timing claim)`, async () => {
      const r = await run('esp-encrypt', name, 1400);
      const seen = Object.fromEntries(r.nodes.map((n) => [n.name, n.packets]));
      assert.equal(seen['esp-encrypt'], PACKETS, 'esp-encrypt handled every packet');
      assert.equal(seen['error-drop'], undefined, 'none dropped');
      assert.deepEqual(r.sa, { packets: PACKETS, bytes: PACKETS * 1400, replayDrops: 0, integFails: 0, decryptErrors: 0, seqExhausted: 0 });
      assert.equal(r.payload, 1400);
      assert.ok(Math.abs((r.gbps as number) - (r.mpps * 1400 * 8) / 1000) < 1e-9, 'Gbit/s of payload');
    });

    it(`esp-decrypt ${name}: every generated ESP packet is decrypted and routed to the LAN (smoke, no timing claim)`, async () => {
      const r = await run('esp-decrypt', name, 64);
      const seen = Object.fromEntries(r.nodes.map((n) => [n.name, n.packets]));
      assert.equal(seen['esp-decrypt'], PACKETS, 'esp-decrypt handled every packet');
      assert.equal(seen['error-drop'], undefined, 'none dropped');
      assert.deepEqual(r.sa, { packets: PACKETS, bytes: PACKETS * 64, replayDrops: 0, integFails: 0, decryptErrors: 0, seqExhausted: 0 });
    });
  }
});
