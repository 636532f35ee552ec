/* The field checks every board section shares: each failure names the
 * field as a JSON path (ports[1].type) and says what it must be. */
import { SpecError } from '../errors';

export type Json = Record<string, unknown>;

export function fail(field: string, why: string): never {
  throw new SpecError(field, why, 'BOARD_INVALID');
}

export function object(v: unknown, field: string, keys: string[]): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, 'must be an object');
  const unknown = Object.keys(v).find((k) => !keys.includes(k));
  if (unknown) fail(field ? `${field}.${unknown}` : unknown, `unknown field (known: ${keys.join(', ')})`);
  return v as Json;
}

export function str(v: unknown, field: string, optional = false): string | undefined {
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v === '') fail(field, 'must be a non-empty string');
  return v;
}

export function int(v: unknown, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) {
    fail(field, max === Number.MAX_SAFE_INTEGER ? `must be an integer >= ${min}` : `must be an integer in ${min}..${max}`);
  }
  return v as number;
}

export function array(v: unknown, field: string, what: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(field, `must be an array of ${what}`);
  return v;
}

export function oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) fail(field, `must be one of ${allowed.join(', ')}, not ${JSON.stringify(v)}`);
  return v as T;
}

/* A Linux network interface name: at most 15 bytes, no slash or space. */
export function ifName(v: unknown, field: string): string {
  const s = str(v, field)!;
  if (s.length > 15 || /[\s/:]/.test(s)) fail(field, `${JSON.stringify(s)} is not a Linux interface name (1..15 characters, no space, / or :)`);
  return s;
}
