/* Field checks shared by the models. Each throws a FieldError naming the
 * path of the bad field; the document validator collects them into one
 * ConfigError so an operator sees every problem at once. */
import { VecgateError } from '../errors';

export interface FieldProblem {
  path: string;
  reason: string;
}

export class FieldError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

/* A document was refused: nothing of it was applied. */
export class ConfigError extends VecgateError {
  constructor(readonly problems: FieldProblem[]) {
    super('CONFIG_INVALID', problems.map((p) => `${p.path}: ${p.reason}`).join('; '));
  }
}

export type Json = Record<string, unknown>;

export function fail(path: string, reason: string): never {
  throw new FieldError(path, reason);
}

export function object(v: unknown, path: string, known: readonly string[]): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'must be an object');
  const unknown = Object.keys(v).find((k) => !known.includes(k));
  if (unknown !== undefined) fail(`${path}.${unknown}`, `unknown field (known: ${known.join(', ')})`);
  return v as Json;
}

export function array(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(path, 'must be an array');
  return v;
}

export function bool(v: unknown, path: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') fail(path, 'must be true or false');
  return v;
}

export function int(v: unknown, path: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) fail(path, `must be an integer in ${min}..${max}`);
  return v as number;
}

export function str(v: unknown, path: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') fail(path, 'must be a non-empty string');
  return v;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/* An interface name as the dataplane takes it (at most 63 characters). */
export function ifName(v: unknown, path: string): string {
  if (typeof v !== 'string' || !NAME.test(v)) fail(path, 'not an interface name (letters, digits, . _ -; at most 63)');
  return v;
}

import { ip4Text as numberToIp4, maskOf, parseIp4 as ip4Number } from '../net/ip4';

export { ip4Number, maskOf, numberToIp4 };

export function ip4(v: unknown, path: string): string {
  if (typeof v !== 'string' || ip4Number(v) === undefined) fail(path, 'not an IPv4 address');
  return v;
}


/* "a.b.c.d/len": `network` asks for the network address itself (a route's
 * prefix); otherwise a host address on it (an interface address). */
export function cidr(v: unknown, path: string, network: boolean): string {
  const slash = typeof v === 'string' ? v.indexOf('/') : -1;
  const lenText = slash < 0 ? '' : (v as string).slice(slash + 1);
  const addr = slash < 0 ? undefined : ip4Number((v as string).slice(0, slash));
  const len = /^\d{1,2}$/.test(lenText) ? Number(lenText) : NaN;
  if (addr === undefined || !(len >= 0 && len <= 32)) fail(path, 'not an IPv4 prefix (a.b.c.d/0..32)');
  const host = (addr & ~maskOf(len)) >>> 0;
  if (network && host !== 0) fail(path, `host bits set: the network is ${numberToIp4((addr & maskOf(len)) >>> 0)}/${len}`);
  if (!network && len < 31 && (host === 0 || host === (~maskOf(len) >>> 0)))
    fail(path, `the network or broadcast address of its /${len}, not a host address`);
  return v as string;
}


export function mac(v: unknown, path: string): string {
  if (typeof v !== 'string' || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(v)) fail(path, 'not a MAC address (aa:bb:cc:dd:ee:ff)');
  return v.toLowerCase();
}

/* The key's own value for a field the value may repeat: it must agree. */
export function sameAsKey<T>(v: unknown, path: string, fromKey: T): T {
  if (v !== undefined && v !== fromKey) fail(path, `must match the key (${String(fromKey)}) or be left out`);
  return fromKey;
}

/* The outer addresses of a tunnel (VXLAN, IPsec) and the VRF they are routed in. */
export function tunnelEnds(o: Json, path: string): { source: string; destination: string; encapVrf: number } {
  const t = {
    source: ip4(o.source ?? fail(`${path}.source`, 'required'), `${path}.source`),
    destination: ip4(o.destination ?? fail(`${path}.destination`, 'required'), `${path}.destination`),
    encapVrf: int(o.encapVrf, `${path}.encapVrf`, 0, 0xfffffffe) ?? 0,
  };
  if (t.source === t.destination) fail(`${path}.destination`, "is the tunnel's own source");
  return t;
}
