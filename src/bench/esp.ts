/* What esp-encrypt and esp-decrypt share: the algorithm named on the
 * command line, a route-based IPsec tunnel (interface ipsec0, this box
 * 10.0.0.1, the peer 10.0.0.2) protected by an outbound and an inbound
 * tunnel-mode SA with fixed keys, the ESP packets the peer would send
 * (encrypted here with Node's crypto, an implementation that is not ours),
 * and the figures every ESP result carries. The payload is the inner IPv4
 * packet, what ESP protects; Gbit/s count its bits. */
import * as crypto from 'node:crypto';

import { Dataplane } from '../dataplane/dataplane';
import { IpsecSaSpec } from '../dataplane/ipsec';
import { VecgateError } from '../errors';
import { CRYPTO_ALGS, CRYPTO_KEY_BYTES, CryptoAlg, INTEGRITY_ALGS, INTEGRITY_KEY_BYTES, IntegrityAlg, isGcm } from '../net/esp';
import { ip4Header, IP_PROTO_ESP } from './frames';
import { OPENSSL_BLOCK, opensslCipher, opensslSpeed } from './openssl-speed';
import { BenchOptions, BenchResult } from './scenario';

export const LOCAL = '10.0.0.1';
export const PEER = '10.0.0.2';
export const UNDERLAY_MAC = '02:00:00:00:00:02';
export const PEER_MAC = '02:00:00:00:00:01';
export const SA_OUT = 1;
export const SA_IN = 2;
const SPI_OUT = 0x1000;
const SPI_IN = 0x2000;
const IP_PROTO_IPV4 = 4; /* ESP next header: tunnel mode carries IPv4 */

export const DEFAULT_ALG = 'aes-128-gcm';
export const DEFAULT_PAYLOAD = 64;
export const MIN_PAYLOAD = 28; /* IPv4 and UDP headers */
export const MAX_PAYLOAD = 1500;

export interface EspAlg {
  name: string;
  crypto: CryptoAlg;
  integrity: IntegrityAlg;
}

/* "aes-128-gcm", or AES-CBC and an HMAC: "aes-256-cbc-hmac-sha-256" (the
 * truncation may be given: "aes-256-cbc-hmac-sha-256-128"). */
export function parseAlg(name: string): EspAlg {
  const gcm = CRYPTO_ALGS.find((c) => isGcm(c) && c === name);
  if (gcm) return { name, crypto: gcm, integrity: 'none' };
  const cbc = CRYPTO_ALGS.find((c) => !isGcm(c) && name.startsWith(`${c}-`));
  const rest = cbc ? name.slice(cbc.length + 1) : '';
  const integ = INTEGRITY_ALGS.filter((i) => i !== 'none' && (i === rest || i.replace(/-\d+$/, '') === rest));
  if (!cbc || integ.length !== 1) {
    const valid = [...CRYPTO_ALGS.filter(isGcm), 'aes-{128,192,256}-cbc-hmac-{sha1,sha-256,sha-384,sha-512}'];
    throw new VecgateError('BENCH_OPTION', `--alg ${name} is not an ESP algorithm (valid: ${valid.join(', ')})`);
  }
  return { name, crypto: cbc, integrity: integ[0]! };
}

export function payloadOf(opts: BenchOptions): number {
  const payload = opts.payload ?? DEFAULT_PAYLOAD;
  if (!Number.isInteger(payload) || payload < MIN_PAYLOAD || payload > MAX_PAYLOAD) {
    throw new VecgateError('BENCH_OPTION', `--payload must be ${MIN_PAYLOAD}..${MAX_PAYLOAD} bytes (the inner IPv4 packet)`);
  }
  return payload;
}

/* Fixed, distinct keys and IVs: the same SAs and packets every run. */
function key(bytes: number, seed: number): Buffer {
  return Buffer.from(Array.from({ length: bytes }, (_, i) => (seed + 7 * i) & 0xff));
}

/* The SA of one direction: outbound from this box to the peer, or
 * inbound from the peer (what espPacket encrypts with). */
export function saSpec(alg: EspAlg, inbound: boolean): IpsecSaSpec {
  const spi = inbound ? SPI_IN : SPI_OUT;
  return {
    spi,
    inbound,
    tunnel: true,
    crypto: alg.crypto,
    cryptoKey: key(CRYPTO_KEY_BYTES[alg.crypto], spi >> 8).toString('hex'),
    integrity: alg.integrity,
    integrityKey: alg.integrity === 'none' ? undefined : key(INTEGRITY_KEY_BYTES[alg.integrity], (spi >> 8) + 0x80).toString('hex'),
    tunnelSrc: inbound ? PEER : LOCAL,
    tunnelDst: inbound ? LOCAL : PEER,
  };
}

/* Adds both SAs and the tunnel they protect; the underlay port (the sink
 * for encrypt, the generator's for decrypt) holds this box's address.
 * The inbound SA keeps no replay window: the decrypt scenario sends one
 * packet over and over. Returns the tunnel's sw_if_index. */
export function protectedTunnel(dp: Dataplane, underlay: number, alg: EspAlg): number {
  dp.interfaceSetMac(underlay, UNDERLAY_MAC);
  dp.interfaceAddIp4(underlay, `${LOCAL}/24`);
  dp.ip4NeighborAdd(underlay, PEER, PEER_MAC);
  dp.ipsecSaAdd(SA_OUT, saSpec(alg, false));
  dp.ipsecSaAdd(SA_IN, saSpec(alg, true));
  const tunnel = dp.ipsecTunnelAdd('ipsec0', LOCAL, PEER);
  dp.ipsecTunnelProtect(tunnel, SA_OUT, [SA_IN]);
  return tunnel;
}

/* The SA's counters after the timed run (cleared with the others before it). */
export function saCounters(dp: Dataplane, saId: number): Record<string, number> {
  const sa = dp.ipsecSas().find((x) => x.saId === saId);
  if (!sa) throw new VecgateError('BENCH_SETUP', `SA ${saId} is gone`);
  const { packets, bytes, replayDrops, integFails, decryptErrors, seqExhausted } = sa;
  return { packets, bytes, replayDrops, integFails, decryptErrors, seqExhausted };
}

const ICV_BYTES: Record<IntegrityAlg, number> = { none: 0, 'hmac-sha1-96': 12, 'hmac-sha-256-128': 16, 'hmac-sha-384-192': 24, 'hmac-sha-512-256': 32 };
const HASH: Record<IntegrityAlg, string> = { none: '', 'hmac-sha1-96': 'sha1', 'hmac-sha-256-128': 'sha256', 'hmac-sha-384-192': 'sha384', 'hmac-sha-512-256': 'sha512' };

/* The ESP trailer (RFC 4303 2.4): padding 1, 2, 3 ... so that what is
 * encrypted fills whole blocks, then its length and the next header. */
function withTrailer(inner: Buffer, block: number): Buffer {
  const pad = (block - ((inner.length + 2) % block)) % block;
  const trailer = Buffer.from([...Array.from({ length: pad }, (_, i) => i + 1), pad, IP_PROTO_IPV4]);
  return Buffer.concat([inner, trailer]);
}

/* The peer's ESP packet (outer IPv4 from the peer to this box) carrying
 * `inner` on the inbound SA with sequence number `seq`. */
export function espPacket(alg: EspAlg, inner: Buffer, seq: number): Buffer {
  const sa = saSpec(alg, true);
  const cryptoKey = Buffer.from(sa.cryptoKey, 'hex');
  const header = Buffer.alloc(8);
  header.writeUInt32BE(sa.spi, 0);
  header.writeUInt32BE(seq, 4);
  let body: Buffer;
  if (isGcm(alg.crypto)) {
    /* RFC 4106: the nonce is the key's salt and the 8-byte IV; the SPI and
     * sequence number are authenticated as AAD; a 16-byte tag. */
    const aesKey = cryptoKey.subarray(0, cryptoKey.length - 4);
    const iv = key(8, seq);
    const cipher = crypto.createCipheriv(alg.crypto as crypto.CipherGCMTypes, aesKey, Buffer.concat([cryptoKey.subarray(-4), iv]));
    cipher.setAAD(header);
    const text = Buffer.concat([cipher.update(withTrailer(inner, 4)), cipher.final()]);
    body = Buffer.concat([iv, text, cipher.getAuthTag()]);
  } else {
    /* RFC 3602 and the HMAC over SPI, sequence number, IV and ciphertext. */
    const iv = key(16, seq);
    const cipher = crypto.createCipheriv(alg.crypto, cryptoKey, iv).setAutoPadding(false);
    const text = Buffer.concat([iv, cipher.update(withTrailer(inner, 16)), cipher.final()]);
    const icv = crypto.createHmac(HASH[alg.integrity], Buffer.from(sa.integrityKey!, 'hex')).update(header).update(text).digest();
    body = Buffer.concat([text, icv.subarray(0, ICV_BYTES[alg.integrity])]);
  }
  const length = 20 + header.length + body.length;
  return Buffer.concat([ip4Header(PEER, LOCAL, IP_PROTO_ESP, length), header, body]);
}

/* mpps as Gbit/s of payload, and OpenSSL's rate for the same algorithm
 * and direction with the ratio of ours to it. */
export function espFigures(result: BenchResult, alg: EspAlg, payload: number, decrypt: boolean, opts: BenchOptions): BenchResult {
  const bytesPerSecond = result.mpps * 1e6 * payload;
  const figures = { ...result, alg: alg.name, payload, gbps: (bytesPerSecond * 8) / 1e9 };
  if (opts.reference === false) return figures;
  const openssl = opensslSpeed(opensslCipher(alg.crypto, alg.integrity), decrypt);
  return {
    ...figures,
    opensslCipher: openssl.cipher,
    opensslCommand: openssl.command,
    opensslBlock: OPENSSL_BLOCK,
    opensslBytesPerSecond: openssl.bytesPerSecond,
    ...(openssl.error ? { opensslError: openssl.error } : {}),
    opensslRatio: openssl.bytesPerSecond ? bytesPerSecond / openssl.bytesPerSecond : null,
  };
}
