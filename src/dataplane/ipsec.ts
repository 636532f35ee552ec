/* IPsec in the dataplane's terms (vecgate.h "IPsec ESP"): SAs, ipsec tunnel
 * interfaces and SPDs as the C API takes and returns them, converted here
 * so the Dataplane class only makes the calls. */
import { VecgateError } from '../errors';
import { CRYPTO_KEY_BYTES, CryptoAlg, cryptoId, cryptoName, INTEGRITY_KEY_BYTES, IntegrityAlg, integrityId, integrityName } from '../net/esp';
import { ip4Text, parseIp4 } from '../net/ip4';

const FLAG = { inbound: 0x01, tunnel: 0x02, esn: 0x04, antiReplay: 0x08, udpEncap: 0x10, copyDf: 0x20 } as const;
const KEY_MAX = 64;
export const NO_SA = 0xffffffff;

export interface IpsecSaSpec {
  spi: number;
  inbound: boolean;
  tunnel: boolean; /* else transport mode */
  esn?: boolean;
  antiReplay?: boolean;
  udpEncap?: boolean;
  copyDf?: boolean;
  crypto: CryptoAlg;
  cryptoKey: string; /* hex */
  integrity: IntegrityAlg;
  integrityKey?: string; /* hex */
  /* On the wire in the SA's direction: outbound src is this box. */
  tunnelSrc?: string;
  tunnelDst?: string;
  vrf?: number;
  udpSport?: number; /* 0 or absent: 4500 */
  udpDport?: number;
  replayWindow?: number; /* 0 or absent: 64 */
  initialSeq?: bigint;
}

export interface IpsecSaInfo extends IpsecSaSpec {
  saId: number;
  users: number; /* tunnels and SPD entries using it */
  swIfIndex: number | null; /* the tunnel it protects */
  seq: bigint;
  packets: number;
  bytes: number;
  replayDrops: number;
  integFails: number;
  decryptErrors: number;
  seqExhausted: number;
}

export interface IpsecTunnelInfo {
  swIfIndex: number;
  name: string;
  src: string;
  dst: string;
  vrf: number;
  saOut: number | null;
  saIn: number[];
}

export interface IpsecPolicySpec {
  priority: number;
  direction: 'inbound' | 'outbound';
  action: 'bypass' | 'discard' | 'protect';
  saId?: number;
  local?: { first: string; last: string }; /* absent: any */
  remote?: { first: string; last: string };
  protocol?: number; /* absent or 0: any */
  localPorts?: { first: number; last: number };
  remotePorts?: { first: number; last: number };
}

export interface IpsecSpdEntryInfo extends IpsecPolicySpec {
  entryId: number;
  packets: number;
}

const ACTIONS = ['bypass', 'discard', 'protect'] as const;

function keyBytes(hex: string | undefined, want: number, field: string): { bytes: Uint8Array; len: number } {
  const bytes = new Uint8Array(KEY_MAX);
  const key = Buffer.from(hex ?? '', 'hex');
  if (key.length !== want) throw new VecgateError('BAD_KEY', `${field}: ${want} bytes wanted, got ${key.length}`);
  bytes.set(key);
  return { bytes, len: key.length };
}

function addr(text: string | undefined): number {
  if (text === undefined) return 0;
  const n = parseIp4(text);
  if (n === undefined) throw new VecgateError('BAD_IP4', `${text} is not an IPv4 address`);
  return n;
}

export function saConfigStruct(s: IpsecSaSpec): Record<string, unknown> {
  const ck = keyBytes(s.cryptoKey, CRYPTO_KEY_BYTES[s.crypto], 'cryptoKey');
  const ik = keyBytes(s.integrityKey, INTEGRITY_KEY_BYTES[s.integrity], 'integrityKey');
  let flags = 0;
  for (const [name, bit] of Object.entries(FLAG)) if (s[name as keyof typeof FLAG]) flags |= bit;
  return {
    initial_seq: s.initialSeq ?? 0n,
    spi: s.spi,
    flags,
    crypto_alg: cryptoId(s.crypto),
    integ_alg: integrityId(s.integrity),
    crypto_key_len: ck.len,
    integ_key_len: ik.len,
    crypto_key: ck.bytes,
    integ_key: ik.bytes,
    tunnel_src: addr(s.tunnelSrc),
    tunnel_dst: addr(s.tunnelDst),
    vrf: s.vrf ?? 0,
    udp_sport: s.udpSport ?? 0,
    udp_dport: s.udpDport ?? 0,
    replay_window: s.replayWindow ?? 0,
    pad: 0,
  };
}

const hex = (bytes: unknown, len: number) => Buffer.from((bytes as Uint8Array).subarray(0, len)).toString('hex');

export function saInfoOf(r: Record<string, unknown>): IpsecSaInfo {
  const c = r.config as Record<string, unknown>;
  const flags = c.flags as number;
  const info: IpsecSaInfo = {
    saId: r.sa_id as number,
    users: r.n_users as number,
    swIfIndex: r.sw_if_index === NO_SA ? null : (r.sw_if_index as number),
    seq: BigInt(r.seq as number | bigint),
    packets: Number(r.packets),
    bytes: Number(r.bytes),
    replayDrops: Number(r.replay_drops),
    integFails: Number(r.integ_fails),
    decryptErrors: Number(r.decrypt_errors),
    seqExhausted: Number(r.seq_exhausted),
    spi: c.spi as number,
    inbound: (flags & FLAG.inbound) !== 0,
    tunnel: (flags & FLAG.tunnel) !== 0,
    esn: (flags & FLAG.esn) !== 0,
    antiReplay: (flags & FLAG.antiReplay) !== 0,
    udpEncap: (flags & FLAG.udpEncap) !== 0,
    copyDf: (flags & FLAG.copyDf) !== 0,
    crypto: cryptoName(c.crypto_alg as number) ?? ('aes-128-cbc' as CryptoAlg),
    cryptoKey: hex(c.crypto_key, c.crypto_key_len as number),
    integrity: integrityName(c.integ_alg as number) ?? 'none',
    vrf: c.vrf as number,
    udpSport: c.udp_sport as number,
    udpDport: c.udp_dport as number,
    replayWindow: c.replay_window as number,
    initialSeq: BigInt(c.initial_seq as number | bigint),
  };
  if ((c.integ_key_len as number) > 0) info.integrityKey = hex(c.integ_key, c.integ_key_len as number);
  if (c.tunnel_src) info.tunnelSrc = ip4Text(c.tunnel_src as number);
  if (c.tunnel_dst) info.tunnelDst = ip4Text(c.tunnel_dst as number);
  return info;
}

export function policyStruct(p: IpsecPolicySpec): Record<string, unknown> {
  const range = (r: { first: string; last: string } | undefined) => (r ? [addr(r.first), addr(r.last)] : [0, 0]);
  const [localLo, localHi] = range(p.local);
  const [remoteLo, remoteHi] = range(p.remote);
  return {
    priority: p.priority,
    direction: p.direction === 'inbound' ? 1 : 0,
    action: ACTIONS.indexOf(p.action),
    sa_id: p.saId ?? 0,
    local_lo: localLo,
    local_hi: localHi,
    remote_lo: remoteLo,
    remote_hi: remoteHi,
    local_port_lo: p.localPorts?.first ?? 0,
    local_port_hi: p.localPorts?.last ?? 0,
    remote_port_lo: p.remotePorts?.first ?? 0,
    remote_port_hi: p.remotePorts?.last ?? 0,
    protocol: p.protocol ?? 0,
    pad: [0, 0, 0],
  };
}

/* A hi of 0 is "any" in the C API; read back, any is left out. */
export function policyOf(r: Record<string, unknown>): IpsecPolicySpec {
  const p: IpsecPolicySpec = {
    priority: r.priority as number,
    direction: r.direction === 1 ? 'inbound' : 'outbound',
    action: ACTIONS[r.action as number] ?? 'discard',
  };
  if (p.action === 'protect') p.saId = r.sa_id as number;
  const anyRange = (lo: number, hi: number) => hi === 0 || (lo === 0 && hi === 0xffffffff);
  const anyPorts = (lo: number, hi: number) => hi === 0 || (lo === 0 && hi === 0xffff);
  if (!anyRange(r.local_lo as number, r.local_hi as number)) p.local = { first: ip4Text(r.local_lo as number), last: ip4Text(r.local_hi as number) };
  if (!anyRange(r.remote_lo as number, r.remote_hi as number)) p.remote = { first: ip4Text(r.remote_lo as number), last: ip4Text(r.remote_hi as number) };
  if (r.protocol) p.protocol = r.protocol as number;
  if (!anyPorts(r.local_port_lo as number, r.local_port_hi as number)) p.localPorts = { first: r.local_port_lo as number, last: r.local_port_hi as number };
  if (!anyPorts(r.remote_port_lo as number, r.remote_port_hi as number)) p.remotePorts = { first: r.remote_port_lo as number, last: r.remote_port_hi as number };
  return p;
}
