/* Plain RFC 8949 CBOR for what the agent sends and receives. One encoder and
 * one decoder, configured so that other implementations read what we write;
 * and, before cbor-x sees received bytes, a well-formedness check of our own
 * that names the byte where they go wrong, refuses trailing bytes, duplicate
 * map keys and deep nesting, and (for plain data) any tag. Documents, state
 * and telemetry are all JSON-shaped: maps with text keys, arrays, text,
 * numbers, true, false and null. */
import { Decoder, Encoder, Options } from 'cbor-x';

import { VecgateError } from '../errors';

/* cbor-x by default writes its own extensions (records, tag 259 for a Map,
 * tagged typed arrays) and a 16-bit length on every object: all off here. */
export const plainEncoder = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  tagUint8Array: false,
  variableMapSize: true,
  useTag259ForMaps: false,
} as Options & { useTag259ForMaps: boolean });

/* Maps stay Maps so that a non-string key is seen, not stringified. */
const decoder = new Decoder({ useRecords: false, mapsAsObjects: false });

/* Deeper than any document needs, shallow enough that no decoder recursion
 * comes near the stack limit. */
export const MAX_DEPTH = 64;

/* Received CBOR was refused: `path` is where (the message itself, or a field
 * inside it as the models name fields), `reason` why. */
export class CborError extends VecgateError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super('CBOR_INVALID', `${path}: ${reason}`);
  }
}

class Malformed extends Error {
  constructor(
    readonly reason: string,
    readonly plainRule = false /* well-formed CBOR, but not plain data */,
  ) {
    super(reason);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/* A walk over the encoded bytes, RFC 8949 appendix C, without building values. */
class Scan {
  pos = 0;

  constructor(
    private readonly b: Uint8Array,
    private readonly plain: boolean,
  ) {}

  private need(n: number, at: number): void {
    if (this.b.length - this.pos < n) throw new Malformed(`the data item at byte ${at} runs past the end (${this.b.length} bytes)`);
  }

  /* The head at pos: major type and argument (-1: indefinite length). Eight-
   * byte arguments lose precision above 2^53, where only their size matters. */
  head(): { major: number; ai: number; arg: number; at: number } {
    const at = this.pos;
    this.need(1, at);
    const ib = this.b[this.pos++]!;
    const major = ib >> 5;
    const ai = ib & 0x1f;
    if (ai < 24) return { major, ai, arg: ai, at };
    if (ai === 31) return { major, ai, arg: -1, at };
    if (ai > 27) throw new Malformed(`reserved additional information ${ai} at byte ${at}`);
    const n = 1 << (ai - 24);
    this.need(n, at);
    let arg = 0;
    for (let i = 0; i < n; i++) arg = arg * 256 + this.b[this.pos++]!;
    return { major, ai, arg, at };
  }

  /* One data item. Returns a key identity for text and integers (so that
   * duplicate map keys are seen whatever their encoding), else undefined. */
  item(depth: number): string | undefined {
    if (depth > MAX_DEPTH) throw new Malformed(`nested deeper than ${MAX_DEPTH} levels at byte ${this.pos}`, true);
    const h = this.head();
    if (h.arg === -1) return this.indefinite(h.major, h.at, depth);
    switch (h.major) {
      case 0:
      case 1:
        return `i${h.major}:${h.arg}`;
      case 2:
        this.need(h.arg, h.at);
        this.pos += h.arg;
        return undefined;
      case 3:
        return `t${this.text(h.arg, h.at)}`;
      case 4:
        this.need(h.arg, h.at); /* each element takes a byte at least */
        for (let i = 0; i < h.arg; i++) this.item(depth + 1);
        return undefined;
      case 5:
        this.need(h.arg * 2, h.at);
        this.map(h.at, depth, h.arg);
        return undefined;
      case 6:
        if (this.plain) throw new Malformed(`tag ${h.arg} at byte ${h.at}: plain data holds no tagged values`, true);
        this.item(depth + 1);
        return undefined;
      default:
        return this.simple(h.ai, h.arg, h.at);
    }
  }

  private text(length: number, at: number): string {
    this.need(length, at);
    try {
      return utf8.decode(this.b.subarray(this.pos, (this.pos += length)));
    } catch {
      throw new Malformed(`the text string at byte ${at} is not valid UTF-8`);
    }
  }

  private map(at: number, depth: number, count: number): void {
    const keys = new Set<string>();
    for (let i = 0; count < 0 ? !this.isBreak() : i < count; i++) {
      const keyAt = this.pos;
      const key = this.item(depth + 1) ?? `r${Buffer.from(this.b.subarray(keyAt, this.pos)).toString('latin1')}`;
      if (keys.has(key)) {
        const shown = key.startsWith('t') ? ` ${JSON.stringify(key.slice(1))}` : '';
        throw new Malformed(`duplicate key${shown} at byte ${keyAt} in the map at byte ${at}`);
      }
      keys.add(key);
      this.item(depth + 1);
    }
  }

  private isBreak(): boolean {
    this.need(1, this.pos);
    if (this.b[this.pos] !== 0xff) return false;
    this.pos++;
    return true;
  }

  private indefinite(major: number, at: number, depth: number): string | undefined {
    if (major === 2 || major === 3) {
      let text = '';
      while (!this.isBreak()) {
        const chunk = this.head();
        if (chunk.major !== major || chunk.arg === -1)
          throw new Malformed(`chunk at byte ${chunk.at} of the indefinite-length string at byte ${at} is not a definite string of its type`);
        if (major === 3) {
          text += this.text(chunk.arg, chunk.at);
        } else {
          this.need(chunk.arg, chunk.at);
          this.pos += chunk.arg;
        }
      }
      return major === 3 ? `t${text}` : undefined;
    }
    if (major === 4) {
      while (!this.isBreak()) this.item(depth + 1);
      return undefined;
    }
    if (major === 5) {
      this.map(at, depth, -1);
      return undefined;
    }
    if (major === 7) throw new Malformed(`unexpected break (0xff) at byte ${at}`);
    throw new Malformed(`indefinite length for major type ${major} at byte ${at}`);
  }

  /* Major type 7: false, true, null, undefined, floats, and simple values. */
  private simple(ai: number, arg: number, at: number): undefined {
    if (ai === 24 && arg < 32) throw new Malformed(`two-byte simple value ${arg} at byte ${at}`);
    if (this.plain && (ai < 20 || ai === 24))
      throw new Malformed(`simple value ${arg} at byte ${at}: plain data holds only false, true and null`, true);
    return undefined;
  }
}

/* Throws Malformed unless `bytes` are exactly one well-formed data item. */
function scan(bytes: Uint8Array, plain: boolean): void {
  const s = new Scan(bytes, plain);
  if (bytes.length === 0) throw new Malformed('no bytes');
  s.item(0);
  if (s.pos !== bytes.length) throw new Malformed(`trailing bytes: the data item ends at byte ${s.pos} of ${bytes.length}`);
}

/* Throws CborError (path `root`) unless `bytes` hold exactly one well-formed
 * data item; with `plain`, one that holds no tag and no simple value. */
export function checkWellFormed(bytes: Uint8Array, plain: boolean, root: string): void {
  try {
    scan(bytes, plain);
  } catch (e) {
    if (e instanceof Malformed) throw new CborError(root, e.plainRule ? e.reason : `not CBOR: ${e.reason}`);
    throw e;
  }
}

/* cbor-x alone, for bytes checkWellFormed has passed. */
export function decodeScanned(bytes: Uint8Array, root: string): unknown {
  return cborx(bytes, root);
}

function cborx(bytes: Uint8Array, root: string): unknown {
  try {
    return decoder.decode(bytes);
  } catch (e) {
    /* cbor-x refusing what the scan passed (one of its size limits). */
    throw new CborError(root, `not CBOR: ${(e as Error).message}`);
  }
}

/* The tag number of the outermost item, if it is tagged (no other check). */
export function leadingTag(bytes: Uint8Array): number | undefined {
  try {
    const h = new Scan(bytes, false).head();
    return h.major === 6 && h.arg !== -1 ? h.arg : undefined;
  } catch {
    return undefined;
  }
}

/* Any well-formed CBOR, for structures such as COSE whose maps have integer
 * keys and whose strings are bytes. An outer tag is read here, not by cbor-x:
 * cbor-x's tag handlers are shared by the whole process, and another module
 * registering one (a COSE library does, for tag 18) must not change what we
 * decode. */
export function decodeTagged(bytes: Uint8Array, root = 'message'): { tag?: number; value: unknown } {
  checkWellFormed(bytes, false, root);
  const s = new Scan(bytes, false);
  const h = s.head();
  if (h.major !== 6) return { value: cborx(bytes, root) };
  return { tag: h.arg, value: cborx(bytes.subarray(s.pos), root) };
}

/* Received plain data (state, telemetry, a document's payload): throws
 * CborError naming the byte or the field that is wrong. */
export function decodeCbor(bytes: Uint8Array, root = 'message'): unknown {
  checkWellFormed(bytes, true, root);
  return plainValue(cborx(bytes, root), root);
}

/* Paths read as the models write them: version, items["route/a"].via, ports[0]. */
function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

function describe(v: unknown): string {
  if (v instanceof Uint8Array) return `a byte string (${v.length} bytes)`;
  if (v instanceof Map) return 'a map';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'bigint') return `${v} (an integer)`;
  if (typeof v === 'number') return `${v} (a number)`;
  if (typeof v === 'object' && v !== null) return `a ${v.constructor?.name ?? 'object'}`;
  return `${String(v)} (${typeof v})`;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/* Checks that a decoded value is plain data and makes it the JS that JSON.parse
 * would give: Maps with text keys become objects, integers become numbers.
 * `root` names the whole value; fields are named from it down. */
export function plainValue(v: unknown, root: string): unknown {
  return plain(v, [], root);
}

/* The keys from the root down to a value; made into a path only for an
 * error, since building one per value was most of the cost of a large
 * document. */
type Trail = (string | number)[];

function pathOf(trail: Trail): string {
  return trail.reduce<string>((p, k) => childPath(p, k), '');
}

/* Sets a property without a "__proto__" key reaching the prototype. */
function setData(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

function plain(v: unknown, trail: Trail, root: string): unknown {
  const fail = (reason: string): never => {
    throw new CborError(pathOf(trail) || root, reason);
  };
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) ? v : fail(`${v} is not a finite number`);
    case 'bigint':
      /* cbor-x gives a bigint for every 8-byte integer, small or not. */
      if (v > MAX_SAFE || v < -MAX_SAFE) fail(`integer ${v} is beyond ±(2^53 - 1), where numbers are exact`);
      return Number(v);
    case 'undefined':
      return fail('undefined is not a value here (use null, or leave the field out)');
  }
  if (v === null) return null;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) {
      trail.push(i);
      out[i] = plain(v[i], trail, root);
      trail.pop();
    }
    return out;
  }
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v) {
      if (typeof k !== 'string') fail(`map key ${describe(k)} is not a string`);
      trail.push(k);
      setData(o, k, plain(x, trail, root));
      trail.pop();
    }
    return o;
  }
  if (typeof v === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(v))) {
    return plain(new Map(Object.entries(v)), trail, root);
  }
  return fail(`${describe(v)}: plain data holds maps, arrays, text, numbers, true, false and null`);
}

/* JSON.stringify's rules, written as CBOR: toJSON is called (a Date becomes
 * its ISO text), undefined and functions are left out of objects and become
 * null in arrays, NaN and the infinities become null. Integers beyond 32 bits
 * are written as CBOR integers, where cbor-x would write a float. Byte
 * strings, Maps and Sets have no JSON form: TypeError, as for a cycle. */
export function encodeCbor(value: unknown): Buffer {
  const v = forCbor(value, ['value'], new Set());
  if (v === undefined) throw new TypeError('encodeCbor: nothing to encode (undefined)');
  return plainEncoder.encode(v);
}

const INT64_MIN = -(2n ** 64n);
const UINT64_MAX = 2n ** 64n - 1n;

function forCbor(v: unknown, trail: Trail, seen: Set<object>): unknown {
  if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    v = (v as { toJSON(): unknown }).toJSON();
  }
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      if (!Number.isFinite(v)) return null;
      return Number.isSafeInteger(v) && (v > 0xffffffff || v < -0xffffffff) ? BigInt(v) : v;
    case 'bigint':
      if (v < INT64_MIN || v > UINT64_MAX) throw new TypeError(`encodeCbor: ${pathOf(trail)}: ${v} is beyond the 64-bit integers of CBOR`);
      return v;
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (v === null) return null;
  const o = v as object;
  if (o instanceof Uint8Array || o instanceof ArrayBuffer || o instanceof Map || o instanceof Set)
    throw new TypeError(`encodeCbor: ${pathOf(trail)}: ${describe(o)} has no plain-data form`);
  if (seen.has(o)) throw new TypeError(`encodeCbor: ${pathOf(trail)}: circular reference`);
  seen.add(o);
  let out: unknown;
  if (Array.isArray(o)) {
    const a = new Array<unknown>(o.length);
    for (let i = 0; i < o.length; i++) {
      trail.push(i);
      a[i] = forCbor(o[i], trail, seen) ?? null;
      trail.pop();
    }
    out = a;
  } else {
    const r: Record<string, unknown> = {};
    for (const k of Object.keys(o)) {
      trail.push(k);
      const c = forCbor((o as Record<string, unknown>)[k], trail, seen);
      trail.pop();
      if (c !== undefined) setData(r, k, c);
    }
    out = r;
  }
  seen.delete(o);
  return out;
}
