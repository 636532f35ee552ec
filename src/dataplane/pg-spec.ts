/* Typed form of a packet-generator stream spec, serialised to the C grammar
 * of native/interfaces/pg.c ("name=demo size=64 ip4.dst=10.0.0.1-10.0.0.9").
 * We validate here to name the bad field early and in TS terms; the C parser
 * stays authoritative and names the field too. */
import { SpecError } from '../errors';

/* A value, or a range that increments (or is drawn at random) per packet. */
export type Ranged<T> = T | { from: T; to: T; random?: boolean };

export interface PgEdit {
  offset: number;
  width: number; /* bytes, 1..8 */
  from: number | bigint;
  to: number | bigint;
  random?: boolean;
}

export interface PgStreamSpec {
  name: string;
  if?: string; /* rx interface, default pg0 */
  node?: string; /* graph node taking the packets, default ethernet-input */
  size?: Ranged<number>; /* frame bytes without FCS */
  count?: number; /* 0 = forever */
  rate?: number | string; /* packets/s, "10k", "1.5M"; 0 = as fast as possible */
  eth?: { src?: Ranged<string>; dst?: Ranged<string>; type?: number };
  vlan?: number | number[];
  ip4?: { src?: Ranged<string>; dst?: Ranged<string>; ttl?: number };
  l4?: 'udp' | 'tcp' | 'icmp' | 'none';
  udp?: { sport?: Ranged<number>; dport?: Ranged<number> };
  tcp?: { sport?: Ranged<number>; dport?: Ranged<number> };
  data?: string | Buffer; /* raw frame template (hex), instead of the header fields */
  edit?: PgEdit[];
}

const NAME = /^[A-Za-z0-9_.:/-]+$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const IP4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const RATE = /^\d+(\.\d+)?[kMG]?$/;
const HEX = /^([0-9a-f]{2})+$/i;

type Check<T> = (field: string, v: T) => string;

function fail(field: string, why: string): never {
  throw new SpecError(field, why, 'PG_SPEC_INVALID');
}

function int(min: number, max: number): Check<number> {
  return (field, v) => {
    if (!Number.isInteger(v) || v < min || v > max) fail(field, `${v} is not an integer in ${min}..${max}`);
    return String(v);
  };
}

function pattern(re: RegExp, what: string): Check<string> {
  return (field, v) => {
    if (typeof v !== 'string' || !re.test(v)) fail(field, `${JSON.stringify(v)} is not ${what}`);
    return v;
  };
}

const compareIp4 = (s: string) => s.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const compareMac = (s: string) => parseInt(s.replace(/:/g, ''), 16);

function isRange<T>(v: Ranged<T>): v is { from: T; to: T; random?: boolean } {
  return typeof v === 'object' && v !== null && !Buffer.isBuffer(v) && 'from' in v;
}

/* "A", "A-B" or "A-B/random"; `order` maps a value to a number to check A <= B. */
function ranged<T>(check: Check<T>, order: (s: string) => number = Number): Check<Ranged<T>> {
  return (field, v) => {
    if (!isRange(v)) return check(field, v);
    const { from, to, random } = v;
    const a = check(`${field}.from`, from);
    const b = check(`${field}.to`, to);
    if (order(a) > order(b)) fail(field, `range ${a}-${b} runs backwards`);
    return `${a}-${b}${random ? '/random' : ''}`;
  };
}

const name = pattern(NAME, 'a name (letters, digits, _ . : / -)');
const port = ranged(int(0, 65535));
const mac = ranged(pattern(MAC, 'a MAC address'), compareMac);
const ip4 = ranged(pattern(IP4, 'an IPv4 address'), compareIp4);

function rate(field: string, v: number | string): string {
  if (typeof v === 'number') return int(0, Number.MAX_SAFE_INTEGER)(field, v);
  return pattern(RATE, 'a rate (N with an optional k, M or G suffix)')(field, v);
}

function vlan(field: string, v: number | number[]): string {
  const tags = Array.isArray(v) ? v : [v];
  if (tags.length < 1 || tags.length > 2) fail(field, 'takes one or two tags');
  return tags.map((t, i) => int(0, 4095)(`${field}[${i}]`, t)).join(',');
}

function ethertype(field: string, v: number): string {
  int(0, 0xffff)(field, v);
  return `0x${v.toString(16).padStart(4, '0')}`;
}

function data(field: string, v: string | Buffer): string {
  const hex = Buffer.isBuffer(v) ? v.toString('hex') : v.replace(/^0x/i, '');
  return pattern(HEX, 'hex bytes')(field, hex);
}

function edit(field: string, e: PgEdit): string {
  const offset = int(0, 65535)(`${field}.offset`, e.offset);
  const width = int(1, 8)(`${field}.width`, e.width);
  const max = (1n << BigInt(8 * e.width)) - 1n;
  const value = (f: string, x: number | bigint) => {
    if (typeof x === 'number' && !Number.isInteger(x)) fail(f, `${x} is not an integer`);
    const n = BigInt(x);
    if (n < 0n || n > max) fail(f, `${x} does not fit in ${e.width} byte(s)`);
    return n;
  };
  const from = value(`${field}.from`, e.from);
  const to = value(`${field}.to`, e.to);
  if (from > to) fail(field, `range ${from}-${to} runs backwards`);
  return `${offset}:${width}:${from}-${to}${e.random ? '/random' : ''}`;
}

const HEADER_FIELDS = ['eth', 'vlan', 'ip4', 'l4', 'udp', 'tcp'] as const;

/* Serialises (and validates) a typed spec to the C spec string. */
export function formatPgSpec(spec: PgStreamSpec): string {
  if (spec.data !== undefined) {
    const clash = HEADER_FIELDS.find((k) => spec[k] !== undefined);
    if (clash) fail(clash, 'cannot be combined with data (a raw template replaces the header fields)');
  }
  if (spec.name === undefined) fail('name', 'is required');
  const out: string[] = [];
  const put = <T>(key: string, v: T | undefined, check: Check<T>) => {
    if (v !== undefined) out.push(`${key}=${check(key, v)}`);
  };
  put('name', spec.name, name);
  put('if', spec.if, name);
  put('node', spec.node, name);
  put('size', spec.size, ranged(int(1, 65535)));
  put('count', spec.count, int(0, Number.MAX_SAFE_INTEGER));
  put('rate', spec.rate, rate);
  put('eth.src', spec.eth?.src, mac);
  put('eth.dst', spec.eth?.dst, mac);
  put('eth.type', spec.eth?.type, ethertype);
  put('vlan', spec.vlan, vlan);
  put('ip4.src', spec.ip4?.src, ip4);
  put('ip4.dst', spec.ip4?.dst, ip4);
  put('ip4.ttl', spec.ip4?.ttl, int(0, 255));
  put('l4', spec.l4, pattern(/^(udp|tcp|icmp|none)$/, 'one of udp, tcp, icmp, none'));
  put('udp.sport', spec.udp?.sport, port);
  put('udp.dport', spec.udp?.dport, port);
  put('tcp.sport', spec.tcp?.sport, port);
  put('tcp.dport', spec.tcp?.dport, port);
  put('data', spec.data, data);
  spec.edit?.forEach((e, i) => out.push(`edit=${edit(`edit[${i}]`, e)}`));
  return out.join(' ');
}
