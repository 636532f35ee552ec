import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Dataplane } from '../../src/dataplane/dataplane';
import { IpsecSaSpec } from '../../src/dataplane/ipsec';
import { CRYPTO_ALGS, CRYPTO_KEY_BYTES, CryptoAlg, INTEGRITY_ALGS, INTEGRITY_KEY_BYTES, IntegrityAlg, isGcm } from '../../src/net/esp';
import { withoutVariantPin } from '../helpers';
import { hasCommands } from '../peers/netns';

/* ESP (RFC 4303) against implementations that are not ours: scapy's
 * SecurityAssociation encrypts what vecgate decrypts and decrypts what
 * vecgate encrypts (test/peers/esp_peer.py), and tshark checks the ICV of
 * everything vecgate sends. The box is one dataplane with two pcap ports:
 *   wan0 10.0.0.1/24, the peers 10.0.0.100+i (tunnel i) and 10.0.0.50+j
 *        (transport mode with algorithm j, policy based, SPD 1 bound here);
 *   lan0 192.168.1.1/24, the protected host 192.168.1.10.
 * Tunnel i is route based: interface ipsec<i>, route 10.9.<i>.0/24 over it. */
const PEER = '/usr/bin/python3';
const PEER_SCRIPT = path.join(__dirname, '../../../test/peers/esp_peer.py');
const hasScapy = fs.existsSync(PEER) && spawnSync(PEER, ['-c', 'import scapy.layers.ipsec']).status === 0;
const reason = !hasScapy ? 'needs /usr/bin/python3 with python3-scapy' : !hasCommands('tshark') ? 'needs tshark' : '';

const PEER_MAC = '02:00:00:00:00:02';
const HOST_MAC = '02:00:00:00:00:0a';
const BOX = '10.0.0.1';
const HOST = '192.168.1.10';
const ESN_HIGH = 1;

interface Tunnel {
  i: number;
  crypto: CryptoAlg;
  integrity: IntegrityAlg;
  esn: boolean;
  natT: boolean;
  peer: string;
  spiIn: number;
  spiOut: number;
}

const key = (what: string, bytes: number) => createHash('sha512').update(what).digest().subarray(0, bytes).toString('hex').padEnd(bytes * 2, '0');

function tunnels(): Tunnel[] {
  const list: Omit<Tunnel, 'i' | 'peer' | 'spiIn' | 'spiOut'>[] = [];
  for (const crypto of CRYPTO_ALGS) {
    const integs = isGcm(crypto) ? (['none'] as const) : INTEGRITY_ALGS.filter((a) => a !== 'none');
    for (const integrity of integs) list.push({ crypto, integrity, esn: false, natT: false });
  }
  list.push({ crypto: 'aes-128-gcm', integrity: 'none', esn: true, natT: false });
  list.push({ crypto: 'aes-256-cbc', integrity: 'hmac-sha-256-128', esn: true, natT: false });
  list.push({ crypto: 'aes-256-gcm', integrity: 'none', esn: false, natT: true });
  list.push({ crypto: 'aes-128-cbc', integrity: 'hmac-sha-256-128', esn: true, natT: true });
  return list.map((t, i) => ({ ...t, i, peer: `10.0.0.${100 + i}`, spiIn: 0x1000 + i, spiOut: 0x2000 + i }));
}

function keys(crypto: CryptoAlg, integrity: IntegrityAlg, spi: number) {
  return { cryptoKey: key(`c${spi}`, CRYPTO_KEY_BYTES[crypto]), integrityKey: integrity === 'none' ? undefined : key(`i${spi}`, INTEGRITY_KEY_BYTES[integrity]) };
}

/* The same SA as the peer sees it (esp_peer.py's spec). */
function peerSa(s: IpsecSaSpec, src: string, dst: string, esnHigh: number | null) {
  return { crypto: s.crypto, cryptoKey: s.cryptoKey, integrity: s.integrity, integrityKey: s.integrityKey, mode: s.tunnel ? 'tunnel' : 'transport', src, dst, esnHigh, natT: !!s.udpEncap };
}

const TSHARK_ENC: Record<string, string> = { cbc: 'AES-CBC [RFC3602]', gcm: 'AES-GCM with 16 octet ICV [RFC4106]' };
const TSHARK_AUTH: Record<IntegrityAlg, string> = {
  none: 'NULL',
  'hmac-sha1-96': 'HMAC-SHA-1-96 [RFC2404]',
  'hmac-sha-256-128': 'HMAC-SHA-256-128 [RFC4868]',
  'hmac-sha-384-192': 'HMAC-SHA-384-192 [RFC4868]',
  'hmac-sha-512-256': 'HMAC-SHA-512-256 [RFC4868]',
};

interface PeerRow {
  frame: number;
  esp: boolean;
  spi?: number;
  seq?: number;
  outer?: [string, string, number];
  udp?: [number, number] | null;
  ok?: boolean;
  error?: string;
  inner?: { src: string; dst: string; proto: number; ttl: number; icmpType: number | null; payload: string };
}

function peer(cmd: 'encrypt' | 'decrypt', spec: unknown, pcap: string, dir: string): PeerRow[] {
  const specFile = path.join(dir, `${cmd}-${path.basename(pcap)}.json`);
  fs.writeFileSync(specFile, JSON.stringify(spec));
  const r = spawnSync(PEER, [PEER_SCRIPT, cmd, specFile, pcap], { encoding: 'utf8' });
  assert.equal(r.status, 0, `esp_peer.py ${cmd}: ${r.stderr}`);
  return r.stdout.trim() ? r.stdout.trim().split('\n').map((l) => JSON.parse(l) as PeerRow) : [];
}

describe('IPsec ESP interop with scapy and tshark', function () {
  this.timeout(120_000);
  let dp: Dataplane | undefined;
  let dir: string;

  before(function () {
    if (reason) this.skip();
  });
  beforeEach(() => {
    withoutVariantPin();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vecgate-esp-'));
  });
  afterEach(() => {
    dp?.close();
    dp = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('every algorithm, tunnel and transport mode, ESN and UDP encapsulation, both ways', () => {
    const ts = tunnels();
    const sas = new Map<number, IpsecSaSpec & { id: number }>();
    const toBox: unknown[] = [];
    const fromLan: unknown[] = [];
    const peerIn: Record<string, unknown> = {}; /* what the peer sends with */
    const peerOut: Record<string, unknown> = {}; /* what the peer decrypts with */
    const wanIn = path.join(dir, 'wan-in.pcap');
    const lanIn = path.join(dir, 'lan-in.pcap');
    const wanOut = path.join(dir, 'wan-out.pcap');
    const lanOut = path.join(dir, 'lan-out.pcap');

    for (const t of ts) {
      const esnHigh = t.esn ? ESN_HIGH : null;
      const udp = t.natT ? { udpEncap: true } : {};
      const inbound: IpsecSaSpec = { spi: t.spiIn, inbound: true, tunnel: true, esn: t.esn, antiReplay: true, replayWindow: 1024, crypto: t.crypto, integrity: t.integrity, ...keys(t.crypto, t.integrity, t.spiIn), tunnelSrc: t.peer, tunnelDst: BOX, ...udp };
      const outbound: IpsecSaSpec = { spi: t.spiOut, inbound: false, tunnel: true, esn: t.esn, crypto: t.crypto, integrity: t.integrity, ...keys(t.crypto, t.integrity, t.spiOut), tunnelSrc: BOX, tunnelDst: t.peer, ...udp };
      /* ESN SAs start past 2^32: the high half is in every ICV, never on the wire. */
      if (t.esn) {
        inbound.initialSeq = (BigInt(ESN_HIGH) << 32n) + 10n;
        outbound.initialSeq = (BigInt(ESN_HIGH) << 32n) + 5n;
      }
      sas.set(100 + t.i, { ...outbound, id: 100 + t.i });
      sas.set(200 + t.i, { ...inbound, id: 200 + t.i });
      peerIn[t.spiIn] = peerSa(inbound, t.peer, BOX, esnHigh);
      peerOut[t.spiOut] = peerSa(outbound, BOX, t.peer, esnHigh);
      const remote = `10.9.${t.i}.2`;
      const base = t.esn ? 10 : 0;
      toBox.push(
        { spi: t.spiIn, seq: base + 1, inner: { src: remote, dst: HOST, proto: 'icmp', id: 7, size: 56 } },
        { spi: t.spiIn, seq: base + 2, inner: { src: remote, dst: HOST, proto: 'udp', id: 5000 + t.i, size: 1200 } },
      );
      fromLan.push(
        { plain: true, spi: t.spiOut, seq: 1, inner: { src: HOST, dst: remote, proto: 'udp', id: 6000 + t.i, size: 64 } },
        { plain: true, spi: t.spiOut, seq: 2, inner: { src: HOST, dst: remote, proto: 'udp', id: 6000 + t.i, size: 1200 } },
      );
    }

    /* Packets that must be counted and dropped, each on its own SA's counters. */
    const cbc = ts[0]!; /* aes-128-cbc + hmac-sha1-96 */
    const cbc2 = ts[1]!;
    const cbc3 = ts[2]!;
    const gcm = ts.find((t) => t.crypto === 'aes-128-gcm' && !t.esn)!;
    toBox.push(
      { spi: cbc.spiIn, seq: 2, inner: { src: '10.9.0.2', dst: HOST, proto: 'udp', id: 1, size: 64 } } /* replayed */,
      { spi: cbc.spiIn, seq: 3, inner: { src: '10.9.0.2', dst: HOST, proto: 'udp', id: 1, size: 64 }, mutate: 'flip-icv' },
      { spi: cbc.spiIn, seq: 4, inner: { src: '10.9.0.2', dst: HOST, proto: 'udp', id: 1, size: 64 }, mutate: 'truncate' },
      { spi: cbc2.spiIn, seq: 3, inner: { src: '10.9.1.2', dst: HOST, proto: 'udp', id: 1, size: 100 }, mutate: 'bad-padding' },
      { spi: cbc3.spiIn, seq: 3000, inner: { src: '10.9.2.2', dst: HOST, proto: 'udp', id: 1, size: 64 } } /* accepted: far ahead */,
      { spi: cbc3.spiIn, seq: 1000, inner: { src: '10.9.2.2', dst: HOST, proto: 'udp', id: 1, size: 64 } } /* too old for 1024 */,
      { spi: cbc3.spiIn, seq: 2500, inner: { src: '10.9.2.2', dst: HOST, proto: 'udp', id: 1, size: 64 } } /* inside the window, new */,
      { spi: gcm.spiIn, seq: 3, inner: { src: `10.9.${gcm.i}.2`, dst: HOST, proto: 'udp', id: 1, size: 64 }, mutate: 'flip-icv' },
    );

    /* Transport mode, policy based: the peer 10.0.0.50 pings the box inside ESP. */
    /* Transport mode, policy based, every algorithm: peer 10.0.0.<50+j>
     * pings the box inside ESP (SPIs 0x3000+2j out, 0x3001+2j in). */
    const transports = ts.filter((t) => !t.esn && !t.natT).map((t, j) => {
      const peerAddr = `10.0.0.${50 + j}`;
      const alg = { crypto: t.crypto, integrity: t.integrity };
      const out: IpsecSaSpec = { spi: 0x3000 + 2 * j, inbound: false, tunnel: false, ...alg, ...keys(t.crypto, t.integrity, 0x3000 + 2 * j) };
      const inb: IpsecSaSpec = { spi: 0x3001 + 2 * j, inbound: true, tunnel: false, antiReplay: true, ...alg, ...keys(t.crypto, t.integrity, 0x3001 + 2 * j) };
      sas.set(300 + 2 * j, { ...out, id: 300 + 2 * j });
      sas.set(301 + 2 * j, { ...inb, id: 301 + 2 * j });
      peerIn[inb.spi] = peerSa(inb, peerAddr, BOX, null);
      peerOut[out.spi] = peerSa(out, BOX, peerAddr, null);
      toBox.push({ spi: inb.spi, seq: 1, inner: { proto: 'icmp', id: 99, size: 48 } });
      return { peer: peerAddr, out, inb, saOut: 300 + 2 * j, saIn: 301 + 2 * j };
    });
    /* A ping in clear must not be answered: the SPD wants it protected. */
    toBox.push({ plain: true, spi: 0, seq: 1, inner: { src: transports[0]!.peer, dst: BOX, proto: 'icmp', id: 98, size: 48 } });

    /* Ports: their MACs go into the captures, so make them first with no input. */
    const macs = (() => {
      const m = Dataplane.open({ options: 'buffers=1024' });
      try {
        const probe = (name: string) => m.interfaceMac(m.pcapInterfaceCreate(name, { tx: path.join(dir, `${name}-probe.pcap`) }));
        return { wan: probe('wan0'), lan: probe('lan0') };
      } finally {
        m.close();
      }
    })();
    const frame = (p: object, dst: string, src: string) => ({ ...p, ethSrc: src, ethDst: dst });
    peer('encrypt', { sas: peerIn, packets: toBox.map((p) => frame(p as object, macs.wan, PEER_MAC)) }, wanIn, dir);
    peer('encrypt', { sas: {}, packets: fromLan.map((p) => frame(p as object, macs.lan, HOST_MAC)) }, lanIn, dir);

    dp = Dataplane.open({ options: 'buffers=4096' });
    const wan = dp.pcapInterfaceCreate('wan0', { rx: wanIn, tx: wanOut });
    const lan = dp.pcapInterfaceCreate('lan0', { rx: lanIn, tx: lanOut });
    assert.equal(dp.interfaceMac(wan), macs.wan, 'pcap ports get the same MAC in a fresh dataplane');
    for (const sw of [wan, lan]) dp.interfaceSetAdmin(sw, true);
    dp.interfaceAddIp4(wan, `${BOX}/24`);
    dp.interfaceAddIp4(lan, '192.168.1.1/24');
    dp.ip4NeighborAdd(lan, HOST, HOST_MAC);
    for (const tr of transports) dp.ip4NeighborAdd(wan, tr.peer, PEER_MAC);
    for (const [id, s] of sas) dp.ipsecSaAdd(id, s);
    for (const t of ts) {
      dp.ip4NeighborAdd(wan, t.peer, PEER_MAC);
      const sw = dp.ipsecTunnelAdd(`ipsec${t.i}`, BOX, t.peer);
      dp.ipsecTunnelProtect(sw, 100 + t.i, [200 + t.i]);
      dp.interfaceSetAdmin(sw, true);
      dp.ip4RouteAdd(`10.9.${t.i}.0/24`, [{ swIfIndex: sw }]);
    }
    dp.ipsecSpdAdd(1);
    for (const tr of transports) {
      const ends = { local: { first: BOX, last: BOX }, remote: { first: tr.peer, last: tr.peer }, protocol: 1 };
      dp.ipsecSpdEntryAdd(1, { priority: 100, direction: 'outbound', action: 'protect', saId: tr.saOut, ...ends });
      dp.ipsecSpdEntryAdd(1, { priority: 100, direction: 'inbound', action: 'protect', saId: tr.saIn, ...ends });
    }
    dp.ipsecSpdEntryAdd(1, { priority: 0, direction: 'outbound', action: 'bypass' });
    dp.ipsecSpdBind(wan, 1);

    dp.runUntilIdle();
    dp.interfaceFlush(wan);
    dp.interfaceFlush(lan);

    /* What vecgate encrypted, decrypted by scapy: every packet, to the right peer, intact. */
    const out = peer('decrypt', { sas: peerOut }, wanOut, dir);
    const failed = out.filter((r) => r.esp && !r.ok);
    assert.deepEqual(failed, [], 'scapy decrypts everything vecgate sent');
    for (const t of ts) {
      const rows = out.filter((r) => r.spi === t.spiOut);
      const what = `tunnel ${t.i} (${t.crypto}${t.integrity === 'none' ? '' : ` ${t.integrity}`}${t.esn ? ', ESN' : ''}${t.natT ? ', UDP 4500' : ''})`;
      assert.equal(rows.length, 2, `${what}: two packets out`);
      rows.forEach((r, k) => {
        assert.deepEqual(r.outer!.slice(0, 2), [BOX, t.peer], `${what}: outer addresses`);
        assert.equal(r.seq, (t.esn ? 5 : 0) + k + 1, `${what}: sequence numbers (low half) follow on`);
        assert.deepEqual(r.udp, t.natT ? [4500, 4500] : null, `${what}: UDP encapsulation`);
        assert.equal(r.inner!.src, HOST);
        assert.equal(r.inner!.dst, `10.9.${t.i}.2`);
        assert.equal(r.inner!.ttl, 63, `${what}: the inner packet was routed`);
        assert.ok(r.inner!.payload.startsWith(`vecgate ${t.spiOut} ${k + 1} `), `${what}: payload ${r.inner!.payload}`);
      });
    }
    for (const tr of transports) {
      const reply = out.filter((r) => r.spi === tr.out.spi);
      assert.equal(reply.length, 1, `${tr.out.crypto} ${tr.out.integrity}: one echo reply, inside transport-mode ESP`);
      assert.deepEqual([reply[0]!.outer![0], reply[0]!.outer![1], reply[0]!.inner!.src, reply[0]!.inner!.dst, reply[0]!.inner!.icmpType], [BOX, tr.peer, BOX, tr.peer, 0]);
    }
    assert.equal(out.filter((r) => !r.esp).length, 0, 'nothing left the wan port in clear (the clear ping was not answered)');

    /* tshark, given the keys, checks every ICV (it has no ESN: those SAs are left out). */
    const uat = [...ts.filter((t) => !t.esn).map((t) => ({ spi: t.spiOut, s: sas.get(100 + t.i)! })), ...transports.map((tr) => ({ spi: tr.out.spi, s: tr.out }))].flatMap(({ spi, s }) => [
      '-o',
      `uat:esp_sa:"IPv4","*","*","0x${spi.toString(16).padStart(8, '0')}","${TSHARK_ENC[s.crypto.slice(-3)]}","0x${s.cryptoKey}","${TSHARK_AUTH[s.integrity]}","0x${s.integrityKey ?? ''}"`,
    ]);
    const tshark = spawnSync('tshark', ['-n', '-r', wanOut, '-o', 'esp.enable_encryption_decode:TRUE', '-o', 'esp.enable_authentication_check:TRUE', ...uat, '-T', 'fields', '-e', 'esp.spi', '-e', 'esp.icv_good', '-e', 'ip.src'], { encoding: 'utf8' });
    assert.equal(tshark.status, 0, tshark.stderr);
    const checked = tshark.stdout.trim().split('\n').map((l) => l.split('\t'));
    const esnSpis = new Set(ts.filter((t) => t.esn).map((t) => t.spiOut));
    const verdicts = checked.filter(([spi]) => !esnSpis.has(Number(spi)));
    assert.equal(verdicts.length, 2 * ts.filter((t) => !t.esn).length + transports.length);
    for (const [spi, good] of verdicts) assert.match(good!, /^(1|True)$/, `tshark: ICV of SPI ${spi} good`);

    /* What scapy encrypted, decrypted by vecgate and forwarded to the host. */
    const lanFrames = spawnSync('tshark', ['-n', '-r', lanOut, '-T', 'fields', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'ip.ttl', '-e', 'ip.len'], { encoding: 'utf8' });
    assert.equal(lanFrames.status, 0, lanFrames.stderr);
    const delivered = lanFrames.stdout.trim().split('\n').map((l) => l.split('\t'));
    for (const t of ts) {
      const got = delivered.filter(([src]) => src === `10.9.${t.i}.2`);
      const extra = t === cbc3 ? 2 : 0; /* seq 3000 and 2500 */
      assert.equal(got.length, 2 + extra, `tunnel ${t.i}: decrypted and forwarded`);
      for (const [, dst, ttl] of got) assert.deepEqual([dst, ttl], [HOST, '63']);
    }

    /* Per-SA counters: accepted packets, and each bad packet under its reason. */
    const counters = new Map(dp.ipsecSas().map((s) => [s.saId, s]));
    const c = (id: number) => counters.get(id)!;
    for (const t of ts) assert.equal(c(100 + t.i).packets, 2, `SA ${100 + t.i} sent 2`);
    assert.deepEqual([c(200 + cbc.i).packets, c(200 + cbc.i).replayDrops, c(200 + cbc.i).integFails, c(200 + cbc.i).decryptErrors], [2, 1, 1, 1], 'replayed, bad ICV, truncated');
    assert.deepEqual([c(200 + cbc2.i).packets, c(200 + cbc2.i).decryptErrors], [2, 1], 'wrong padding');
    assert.deepEqual([c(200 + cbc3.i).packets, c(200 + cbc3.i).replayDrops, String(c(200 + cbc3.i).seq)], [4, 1, '3000'], 'too old for the window, the newer ones taken');
    assert.deepEqual([c(200 + gcm.i).packets, c(200 + gcm.i).integFails], [2, 1], 'GCM tag');
    for (const t of ts.filter((x) => x.esn)) assert.equal(c(200 + t.i).seq, (BigInt(ESN_HIGH) << 32n) + 12n, `SA ${200 + t.i}: the ESN high half inferred`);
    for (const tr of transports) assert.deepEqual([c(tr.saIn).packets, c(tr.saOut).packets], [1, 1], `${tr.out.crypto} ${tr.out.integrity}: transport mode both ways`);
    const matched = dp.ipsecSpdEntries(1).filter((e) => e.action === 'protect').map((e) => [e.direction, e.packets]);
    const sum = (dir: string) => matched.filter(([d]) => d === dir).reduce((n, [, p]) => n + (p as number), 0);
    assert.deepEqual([sum('inbound'), sum('outbound')], [transports.length + 1, transports.length], 'inbound: the decrypted pings and the clear one; outbound: the replies');
  });
});
