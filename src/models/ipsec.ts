/* IPsec ESP (RFC 4303) configured statically; IKE will add SAs of its own later.
 *   ipsec-sas/<id>           one SA, one direction
 *   ipsec-protections/<if>   route-based: the SAs of an ipsec tunnel interface
 *   ipsec-spds/<id>          policy-based: a security policy database, its
 *                            interfaces and its ordered policies
 * Keys are hex text (or CBOR byte strings), never shown back: the dataplane
 * does not return key material. */
import { array, bool, fail, ifName, int, ip4, ip4Number, maskOf, numberToIp4, object, tunnelEnds } from './check';

import { CRYPTO_ALGS, CRYPTO_KEY_BYTES, CryptoAlg, INTEGRITY_ALGS, INTEGRITY_KEY_BYTES, IntegrityAlg, isGcm, NAT_T_PORT } from '../net/esp';

export const DEFAULT_REPLAY_WINDOW = 1024;
export const MAX_REPLAY_WINDOW = 4096;

/* As on the wire in the SA's direction: outbound, the source is the box;
 * inbound, the peer. encapVrf: where the ESP is routed (outbound) or
 * arrives (inbound). */
export interface IpsecTunnelEnds {
  source: string;
  destination: string;
  encapVrf: number;
}

export interface UdpEncap {
  sourcePort: number;
  destinationPort: number;
}

export interface IpsecSaConfig {
  spi: number;
  direction: 'inbound' | 'outbound';
  mode: 'tunnel' | 'transport';
  crypto: CryptoAlg;
  cryptoKey: string; /* lowercase hex */
  integrity: IntegrityAlg;
  integrityKey?: string;
  tunnel?: IpsecTunnelEnds; /* tunnel mode only */
  esn: boolean;
  antiReplay: boolean; /* inbound only; default on */
  replayWindow: number;
  udpEncap?: UdpEncap;
}

const SA_FIELDS = ['spi', 'direction', 'mode', 'crypto', 'cryptoKey', 'integrity', 'integrityKey', 'tunnel', 'esn', 'antiReplay', 'replayWindow', 'udpEncap'];

export function validateSaId(parts: string[], path: string): void {
  if (parts.length !== 1 || !/^\d{1,10}$/.test(parts[0]!) || Number(parts[0]) > 0xfffffffe) fail(path, 'key must be ipsec-sas/<id> (0..4294967294)');
}

function oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[], dflt?: T): T {
  if (v === undefined && dflt !== undefined) return dflt;
  if (v === undefined) fail(path, `required (one of ${allowed.join(', ')})`);
  if (!allowed.includes(v as T)) fail(path, `must be one of ${allowed.join(', ')}`);
  return v as T;
}

/* A key as hex text ("0x" allowed) or as bytes (a CBOR byte string). */
export function keyHex(v: unknown, path: string, bytes: number, what: string): string {
  let hex: string;
  if (v instanceof Uint8Array) hex = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  else if (typeof v === 'string' && /^(0x)?([0-9a-fA-F]{2})*$/.test(v)) hex = v.replace(/^0x/, '').toLowerCase();
  else fail(path, 'must be a key in hex or a byte string');
  if (hex.length !== bytes * 2) fail(path, `${what} takes a ${bytes}-byte key, this one has ${hex.length / 2}`);
  return hex;
}

export function validateSa(v: unknown, path: string): IpsecSaConfig {
  const o = object(v, path, SA_FIELDS);
  const crypto = oneOf(o.crypto, `${path}.crypto`, CRYPTO_ALGS);
  const direction = oneOf(o.direction, `${path}.direction`, ['inbound', 'outbound'] as const);
  const mode = oneOf(o.mode, `${path}.mode`, ['tunnel', 'transport'] as const, 'tunnel');
  const integrity = oneOf(o.integrity, `${path}.integrity`, INTEGRITY_ALGS, isGcm(crypto) ? 'none' : undefined);
  if (isGcm(crypto) && integrity !== 'none') fail(`${path}.integrity`, `${crypto} authenticates itself: leave integrity out or none`);
  if (!isGcm(crypto) && integrity === 'none') fail(`${path}.integrity`, `${crypto} needs an integrity algorithm (ESP without integrity is refused)`);
  const spi = int(o.spi ?? fail(`${path}.spi`, 'required'), `${path}.spi`, 256, 0xffffffff)!; /* 1..255 are reserved (RFC 4303 2.1) */
  const cfg: IpsecSaConfig = {
    spi,
    direction,
    mode,
    crypto,
    cryptoKey: keyHex(o.cryptoKey ?? fail(`${path}.cryptoKey`, 'required'), `${path}.cryptoKey`, CRYPTO_KEY_BYTES[crypto], isGcm(crypto) ? `${crypto} (key and 4-byte salt)` : crypto),
    integrity,
    esn: bool(o.esn, `${path}.esn`, false),
    antiReplay: bool(o.antiReplay, `${path}.antiReplay`, direction === 'inbound'),
    replayWindow: int(o.replayWindow, `${path}.replayWindow`, 64, MAX_REPLAY_WINDOW) ?? DEFAULT_REPLAY_WINDOW,
  };
  if (integrity !== 'none') cfg.integrityKey = keyHex(o.integrityKey ?? fail(`${path}.integrityKey`, `required for ${integrity}`), `${path}.integrityKey`, INTEGRITY_KEY_BYTES[integrity], integrity);
  else if (o.integrityKey !== undefined) fail(`${path}.integrityKey`, 'no integrity algorithm to use it');
  if (direction === 'outbound' && o.antiReplay === true) fail(`${path}.antiReplay`, 'anti-replay is checked by the receiver: an inbound SA');
  if (o.replayWindow !== undefined && !cfg.antiReplay) fail(`${path}.replayWindow`, 'only with anti-replay');
  if (mode === 'tunnel') cfg.tunnel = tunnelEnds(object(o.tunnel ?? fail(`${path}.tunnel`, 'required in tunnel mode'), `${path}.tunnel`, ['source', 'destination', 'encapVrf']), `${path}.tunnel`);
  else if (o.tunnel !== undefined) fail(`${path}.tunnel`, 'only a tunnel-mode SA has one');
  if (o.udpEncap !== undefined) cfg.udpEncap = udpEncap(o.udpEncap, `${path}.udpEncap`);
  return cfg;
}

/* `true` for the RFC 3948 ports, or the ports a NAT gave the peer. */
function udpEncap(v: unknown, path: string): UdpEncap {
  if (v === true) return { sourcePort: NAT_T_PORT, destinationPort: NAT_T_PORT };
  const o = object(v, path, ['sourcePort', 'destinationPort']);
  return {
    sourcePort: int(o.sourcePort, `${path}.sourcePort`, 1, 65535) ?? NAT_T_PORT,
    destinationPort: int(o.destinationPort, `${path}.destinationPort`, 1, 65535) ?? NAT_T_PORT,
  };
}

/* ipsec-protections/<interface>: what an ipsec tunnel interface sends with
 * and accepts. Several inbound SAs so a rekey can overlap the old one. */
export interface IpsecProtectionConfig {
  interface: string;
  outboundSa: number;
  inboundSas: number[];
}

export const MAX_INBOUND_SAS = 4;

export function validateProtectionName(parts: string[], path: string): void {
  if (parts.length !== 1) fail(path, 'key must be ipsec-protections/<interface>');
  ifName(parts[0], path);
}

export function validateProtection(v: unknown, path: string, name: string): IpsecProtectionConfig {
  const o = object(v, path, ['outboundSa', 'inboundSas']);
  const saId = (x: unknown, p: string) => int(x ?? fail(p, 'required'), p, 0, 0xfffffffe)!;
  const inbound = array(o.inboundSas ?? fail(`${path}.inboundSas`, 'required'), `${path}.inboundSas`).map((x, i) => saId(x, `${path}.inboundSas[${i}]`));
  if (!inbound.length || inbound.length > MAX_INBOUND_SAS) fail(`${path}.inboundSas`, `give 1..${MAX_INBOUND_SAS} SAs`);
  const dup = inbound.findIndex((x, i) => inbound.indexOf(x) !== i);
  if (dup >= 0) fail(`${path}.inboundSas[${dup}]`, `SA ${inbound[dup]} is listed twice`);
  return { interface: name, outboundSa: saId(o.outboundSa, `${path}.outboundSa`), inboundSas: inbound };
}

/* ipsec-spds/<id>: policies tried by priority (highest first) per direction. */
export interface IpRange {
  first: string;
  last: string;
}

export interface PortRange {
  first: number;
  last: number;
}

export interface IpsecPolicy {
  priority: number;
  direction: 'inbound' | 'outbound';
  action: 'protect' | 'bypass' | 'discard';
  sa?: number; /* protect only */
  local: IpRange;
  remote: IpRange;
  protocol?: number; /* any when absent */
  localPorts: PortRange;
  remotePorts: PortRange;
}

export interface IpsecSpdConfig {
  interfaces: string[];
  policies: IpsecPolicy[];
}

export const MAX_POLICIES = 1024;
/* Selectors left out of a policy: everything. */
export const ANY_ADDRESS: IpRange = Object.freeze({ first: '0.0.0.0', last: '255.255.255.255' });
export const ANY_PORT: PortRange = Object.freeze({ first: 0, last: 65535 });
const PROTOCOLS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, gre: 47, esp: 50, ah: 51 };

export function validateSpdName(parts: string[], path: string): void {
  if (parts.length !== 1 || !/^\d{1,10}$/.test(parts[0]!) || Number(parts[0]) > 0xfffffffe) fail(path, 'key must be ipsec-spds/<id> (0..4294967294)');
}

export function validateSpd(v: unknown, path: string): IpsecSpdConfig {
  const o = object(v, path, ['interfaces', 'policies']);
  const interfaces = o.interfaces === undefined ? [] : array(o.interfaces, `${path}.interfaces`).map((x, i) => ifName(x, `${path}.interfaces[${i}]`));
  const dup = interfaces.findIndex((x, i) => interfaces.indexOf(x) !== i);
  if (dup >= 0) fail(`${path}.interfaces[${dup}]`, `${interfaces[dup]} is listed twice`);
  const policies = array(o.policies ?? [], `${path}.policies`).map((p, i) => policy(p, `${path}.policies[${i}]`));
  if (policies.length > MAX_POLICIES) fail(`${path}.policies`, `at most ${MAX_POLICIES} policies`);
  return { interfaces, policies };
}

function policy(v: unknown, path: string): IpsecPolicy {
  const o = object(v, path, ['priority', 'direction', 'action', 'sa', 'local', 'remote', 'protocol', 'localPorts', 'remotePorts']);
  const p: IpsecPolicy = {
    priority: int(o.priority, `${path}.priority`, -0x80000000, 0x7fffffff) ?? 0,
    direction: oneOf(o.direction, `${path}.direction`, ['inbound', 'outbound'] as const),
    action: oneOf(o.action, `${path}.action`, ['protect', 'bypass', 'discard'] as const),
    local: o.local === undefined ? ANY_ADDRESS : addressRange(o.local, `${path}.local`),
    remote: o.remote === undefined ? ANY_ADDRESS : addressRange(o.remote, `${path}.remote`),
    localPorts: o.localPorts === undefined ? ANY_PORT : portRange(o.localPorts, `${path}.localPorts`),
    remotePorts: o.remotePorts === undefined ? ANY_PORT : portRange(o.remotePorts, `${path}.remotePorts`),
  };
  if (p.action === 'protect') p.sa = int(o.sa ?? fail(`${path}.sa`, 'required to protect'), `${path}.sa`, 0, 0xfffffffe);
  else if (o.sa !== undefined) fail(`${path}.sa`, `only a protect policy uses an SA, not ${p.action}`);
  if (o.protocol !== undefined) {
    if (typeof o.protocol === 'string' && !(o.protocol in PROTOCOLS)) fail(`${path}.protocol`, `a number 0..255 or one of ${Object.keys(PROTOCOLS).join(', ')}`);
    p.protocol = typeof o.protocol === 'string' ? PROTOCOLS[o.protocol] : int(o.protocol, `${path}.protocol`, 0, 255);
  }
  const ports = o.localPorts !== undefined || o.remotePorts !== undefined;
  if (ports && p.protocol !== 6 && p.protocol !== 17) fail(`${path}.${o.localPorts !== undefined ? 'localPorts' : 'remotePorts'}`, 'ports need protocol tcp or udp');
  return p;
}

/* "a.b.c.d", "a.b.c.d/len" or "a.b.c.d-e.f.g.h". */
function addressRange(v: unknown, path: string): IpRange {
  if (typeof v !== 'string') fail(path, 'must be an address, a prefix or a range first-last');
  const dash = v.indexOf('-');
  if (dash >= 0) {
    const first = ip4(v.slice(0, dash), path);
    const last = ip4(v.slice(dash + 1), path);
    if (ip4Number(first)! > ip4Number(last)!) fail(path, `the range ends before it starts`);
    return { first, last };
  }
  const slash = v.indexOf('/');
  if (slash < 0) return { first: ip4(v, path), last: v };
  const addr = ip4Number(v.slice(0, slash));
  const len = /^\d{1,2}$/.test(v.slice(slash + 1)) ? Number(v.slice(slash + 1)) : NaN;
  if (addr === undefined || !(len >= 0 && len <= 32)) fail(path, 'not an IPv4 prefix (a.b.c.d/0..32)');
  const mask = maskOf(len);
  return { first: numberToIp4((addr & mask) >>> 0), last: numberToIp4((addr | ~mask) >>> 0) };
}

function portRange(v: unknown, path: string): PortRange {
  if (Number.isInteger(v)) {
    const p = int(v, path, 0, 65535)!;
    return { first: p, last: p };
  }
  const m = typeof v === 'string' ? /^(\d{1,5})-(\d{1,5})$/.exec(v) : null;
  if (!m || Number(m[1]) > 65535 || Number(m[2]) > 65535 || Number(m[1]) > Number(m[2])) fail(path, 'a port or a range first-last in 0..65535');
  return { first: Number(m[1]), last: Number(m[2]) };
}
