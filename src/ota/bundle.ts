/* The OTA bundle (ota/README.md, "Bundle layout"): magic, the length of the
 * signed head, the head (a COSE_Sign1 over the CBOR manifest), then the
 * payload as is. A box reads the head first and verifies it before it
 * writes a byte; then the payload chunk by chunk, each against its sha256
 * from the signed manifest, so a download that resumes at a chunk boundary
 * is verified as it streams and never held whole. */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { OtaError, SignatureError } from '../errors';
import { CborError, decodeTagged, plainEncoder } from '../transport/cbor';
import { parseSign1, signSign1, TrustAnchor, verifySign1 } from '../transport/cose';

export const BUNDLE_MAGIC = Buffer.from('VGOTA\x00\x01\x0a', 'latin1');
export const HEAD_PREFIX_BYTES = 12; /* magic + u32 BE length of the COSE_Sign1 */
export const MAX_HEAD_BYTES = 1 << 20; /* a longer signed head is refused (OTA_FORMAT) */
export const BUNDLE_FORMAT = 1;
export const MIN_CHUNK_SIZE = 64 * 1024;
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
export const DEFAULT_CHUNK_SIZE = 1024 * 1024;
export const DEFAULT_BUNDLE_NAME = 'vecgate-runtime';
const SHA256_BYTES = 32;
/* The magic's byte that carries the format number. */
const FORMAT_BYTE = 6;

export interface PayloadInfo {
  size: number;
  sha256: Buffer;
  chunkSize: number;
  chunks: Buffer[];
}

export interface BundleManifest {
  format: 1;
  name: string;
  version: string;
  securityVersion: number;
  arch: string;
  boards: string[];
  payload: PayloadInfo;
  image?: { node?: string; variants?: string[]; glibc?: string };
}

export interface BundleHead {
  manifest: BundleManifest;
  headBytes: number; /* = payload offset in the bundle = 12 + L */
  digest: Buffer; /* sha256 of the COSE_Sign1 bytes: identifies the bundle, e.g. for a resumed download */
  signer: string; /* trust anchor name that verified it */
}

/* A head read without checking its signature (`ota inspect`). */
export interface UnverifiedHead {
  manifest: BundleManifest;
  headBytes: number;
  digest: Buffer;
  kid?: string;
}

export interface BoxFacts {
  board: string;
  arch: string;
  securityVersion: number;
}

export interface ChunkOut {
  index: number;
  offset: number; /* in the payload */
  data: Buffer;
}

const sha256 = (b: Uint8Array): Buffer => crypto.createHash('sha256').update(b).digest();

function formatError(reason: string): OtaError {
  return new OtaError('OTA_FORMAT', reason);
}

/* ---- the head ---- */

function badMagic(got: Buffer): OtaError {
  const family = BUNDLE_MAGIC.subarray(0, FORMAT_BYTE);
  if (got.length > FORMAT_BYTE && got.subarray(0, FORMAT_BYTE).equals(family))
    return formatError(`bundle format ${got[FORMAT_BYTE]}; this agent reads format ${BUNDLE_FORMAT}`);
  return formatError(
    `not a vecgate OTA bundle: it starts ${got.toString('hex') || '(empty)'}, where a bundle starts ${BUNDLE_MAGIC.toString('hex')} ("VGOTA\\0\\1\\n")`,
  );
}

/* The COSE_Sign1 bytes, or how many bytes the head needs in all. */
function headFrame(bytes: Buffer): { sign1: Buffer; headBytes: number } | { need: number } {
  const seen = Math.min(bytes.length, BUNDLE_MAGIC.length);
  if (!bytes.subarray(0, seen).equals(BUNDLE_MAGIC.subarray(0, seen))) throw badMagic(bytes.subarray(0, seen));
  if (bytes.length < HEAD_PREFIX_BYTES) return { need: HEAD_PREFIX_BYTES };
  const length = bytes.readUInt32BE(BUNDLE_MAGIC.length);
  if (length === 0) throw formatError('the signed head is 0 bytes long');
  if (length > MAX_HEAD_BYTES)
    throw formatError(`the signed head is ${length} bytes; a box reads at most ${MAX_HEAD_BYTES} (MAX_HEAD_BYTES)`);
  const headBytes = HEAD_PREFIX_BYTES + length;
  if (bytes.length < headBytes) return { need: headBytes };
  return { sign1: bytes.subarray(HEAD_PREFIX_BYTES, headBytes), headBytes };
}

/* Given the first bytes of a bundle: { need: N } while fewer than N bytes
 * (N counted from the bundle's start) are there, else the head, its
 * signature verified against the trust anchors, then its manifest's shape. */
export function parseBundleHead(bytes: Buffer, anchors: readonly TrustAnchor[]): BundleHead | { need: number } {
  const frame = headFrame(bytes);
  if ('need' in frame) return frame;
  let verified: { payload: Buffer; anchor: string };
  try {
    verified = verifySign1(frame.sign1, anchors);
  } catch (e) {
    if (e instanceof SignatureError) throw new OtaError('OTA_SIGNATURE', e.reason, { cause: e });
    throw e;
  }
  return { manifest: decodeManifest(verified.payload), headBytes: frame.headBytes, digest: sha256(frame.sign1), signer: verified.anchor };
}

/* The same, with the signature not checked: for showing a bundle to a person. */
export function inspectBundleHead(bytes: Buffer): UnverifiedHead | { need: number } {
  const frame = headFrame(bytes);
  if ('need' in frame) return frame;
  let sign1: { payload: Buffer; kid?: Buffer };
  try {
    sign1 = parseSign1(frame.sign1);
  } catch (e) {
    if (e instanceof SignatureError) throw new OtaError('OTA_SIGNATURE', e.reason, { cause: e });
    throw e;
  }
  return {
    manifest: decodeManifest(sign1.payload),
    headBytes: frame.headBytes,
    digest: sha256(frame.sign1),
    ...(sign1.kid ? { kid: sign1.kid.toString('utf8') } : {}),
  };
}

/* ---- the manifest's shape: every field, each error naming it ---- */

function describe(v: unknown): string {
  if (v instanceof Uint8Array) return `a byte string (${v.length} bytes)`;
  if (v instanceof Map) return 'a map';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `text ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return String(v);
}

function fieldError(field: string, reason: string): OtaError {
  return formatError(`manifest${field ? `.${field}` : ''}: ${reason}`);
}

function fields(v: unknown, field: string, known: readonly string[]): Map<string, unknown> {
  if (!(v instanceof Map)) throw fieldError(field, `${describe(v)}, where a map is expected`);
  for (const k of v.keys()) {
    if (typeof k !== 'string') throw fieldError(field, `key ${describe(k)} is not text`);
    if (!known.includes(k)) throw fieldError(`${field}.${k}`.replace(/^\./, ''), `unknown key (format ${BUNDLE_FORMAT} has ${known.join(', ')})`);
  }
  return v as Map<string, unknown>;
}

function text(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length === 0) throw fieldError(field, v === undefined ? 'missing' : `${describe(v)}, where non-empty text is expected`);
  return v;
}

function uint(v: unknown, field: string): number {
  if (typeof v === 'bigint' && v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  throw fieldError(field, v === undefined ? 'missing' : `${describe(v)}, where an unsigned integer up to 2^53 - 1 is expected`);
}

function hash(v: unknown, field: string): Buffer {
  if (!(v instanceof Uint8Array) || v.length !== SHA256_BYTES)
    throw fieldError(field, v === undefined ? 'missing' : `${describe(v)}, where a ${SHA256_BYTES}-byte sha256 is expected`);
  return Buffer.from(v);
}

function texts(v: unknown, field: string, nonEmpty: boolean): string[] {
  if (!Array.isArray(v)) throw fieldError(field, v === undefined ? 'missing' : `${describe(v)}, where an array of text is expected`);
  if (nonEmpty && v.length === 0) throw fieldError(field, 'empty; at least one is needed');
  return v.map((x, i) => text(x, `${field}[${i}]`));
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

function checkChunkSize(n: number, field: string): void {
  if (!Number.isSafeInteger(n) || !isPowerOfTwo(n) || n < MIN_CHUNK_SIZE || n > MAX_CHUNK_SIZE)
    throw fieldError(field, `${n} is not a power of two from ${MIN_CHUNK_SIZE} (64 KiB) to ${MAX_CHUNK_SIZE} (16 MiB)`);
}

/* The rules for a payload description, on decoded values or on one a
 * caller built: chunk size, and one hash per chunk. */
function checkPayload(p: PayloadInfo, field: string): void {
  if (p.size === 0) throw fieldError(`${field}.size`, '0; a bundle carries an image');
  checkChunkSize(p.chunkSize, `${field}.chunkSize`);
  const count = Math.ceil(p.size / p.chunkSize);
  if (p.chunks.length !== count)
    throw fieldError(`${field}.chunks`, `${p.chunks.length} hashes, where ${p.size} bytes in chunks of ${p.chunkSize} make ${count}`);
}

function decodePayload(v: unknown): PayloadInfo {
  const m = fields(v, 'payload', ['size', 'sha256', 'chunkSize', 'chunks']);
  const chunks = m.get('chunks');
  if (!Array.isArray(chunks)) throw fieldError('payload.chunks', chunks === undefined ? 'missing' : `${describe(chunks)}, where an array of sha256 is expected`);
  const p: PayloadInfo = {
    size: uint(m.get('size'), 'payload.size'),
    sha256: hash(m.get('sha256'), 'payload.sha256'),
    chunkSize: uint(m.get('chunkSize'), 'payload.chunkSize'),
    chunks: chunks.map((c, i) => hash(c, `payload.chunks[${i}]`)),
  };
  checkPayload(p, 'payload');
  return p;
}

function decodeImageInfo(v: unknown): NonNullable<BundleManifest['image']> {
  const m = fields(v, 'image', ['node', 'variants', 'glibc']);
  const out: NonNullable<BundleManifest['image']> = {};
  if (m.has('node')) out.node = text(m.get('node'), 'image.node');
  if (m.has('variants')) out.variants = texts(m.get('variants'), 'image.variants', false);
  if (m.has('glibc')) out.glibc = text(m.get('glibc'), 'image.glibc');
  return out;
}

const MANIFEST_KEYS = ['format', 'name', 'version', 'securityVersion', 'arch', 'boards', 'payload', 'image'] as const;

function decodeManifest(bytes: Buffer): BundleManifest {
  let d: { tag?: number; value: unknown };
  try {
    d = decodeTagged(bytes, 'manifest');
  } catch (e) {
    if (e instanceof CborError) throw formatError(e.message);
    throw e;
  }
  if (d.tag !== undefined) throw formatError(`manifest: tag ${d.tag}, where an untagged map is expected`);
  const m = fields(d.value, '', MANIFEST_KEYS);
  const format = uint(m.get('format'), 'format');
  if (format !== BUNDLE_FORMAT) throw fieldError('format', `${format}; this agent reads format ${BUNDLE_FORMAT}`);
  return {
    format: BUNDLE_FORMAT,
    name: text(m.get('name'), 'name'),
    version: text(m.get('version'), 'version'),
    securityVersion: uint(m.get('securityVersion'), 'securityVersion'),
    arch: text(m.get('arch'), 'arch'),
    boards: texts(m.get('boards'), 'boards', true),
    payload: decodePayload(m.get('payload')),
    ...(m.has('image') ? { image: decodeImageInfo(m.get('image')) } : {}),
  };
}

/* Integers beyond 32 bits as CBOR integers (cbor-x would write a float). */
const int = (n: number): number | bigint => (n > 0xffffffff ? BigInt(n) : n);

export function encodeManifest(m: BundleManifest): Buffer {
  const image = m.image && Object.fromEntries(Object.entries(m.image).filter(([, v]) => v !== undefined));
  return plainEncoder.encode({
    format: m.format,
    name: m.name,
    version: m.version,
    securityVersion: int(m.securityVersion),
    arch: m.arch,
    boards: m.boards,
    payload: { size: int(m.payload.size), sha256: m.payload.sha256, chunkSize: m.payload.chunkSize, chunks: m.payload.chunks },
    ...(image ? { image } : {}),
  });
}

/* ---- the box ---- */

/* Throws OtaError unless the bundle is for this box: OTA_ARCH, OTA_BOARD,
 * OTA_DOWNGRADE (a security version below the box's; equal is allowed). */
export function checkManifest(m: BundleManifest, box: BoxFacts): void {
  checkManifestFacts(m, box);
}

/* The same, checking only the facts given (`ota verify` takes each alone). */
export function checkManifestFacts(m: BundleManifest, box: Partial<BoxFacts>): void {
  if (box.arch !== undefined && m.arch !== box.arch)
    throw new OtaError('OTA_ARCH', `the bundle is for arch ${m.arch}; this box is ${box.arch}`);
  if (box.board !== undefined && !m.boards.includes(box.board))
    throw new OtaError('OTA_BOARD', `the bundle is for board${m.boards.length > 1 ? 's' : ''} ${m.boards.join(', ')}; this box is ${box.board}`);
  if (box.securityVersion !== undefined && m.securityVersion < box.securityVersion)
    throw new OtaError(
      'OTA_DOWNGRADE',
      `the bundle's security version ${m.securityVersion} is lower than this box's ${box.securityVersion} (anti-rollback)`,
    );
}

/* ---- the payload ---- */

/* Verifies the payload as it streams, chunk by chunk, hashing as bytes
 * arrive. A chunk that arrives whole in one push is handed back as a view
 * of the caller's bytes; one split across pushes is gathered in one of two
 * preallocated chunk buffers (one filling while the caller writes the
 * other), so memory stays at two chunks whatever the stream. Any throw ends
 * the verifier (it throws the same again): resume with a new one at the
 * chunk after the last one written. */
export class ChunkVerifier {
  private index: number;
  private fill = 0; /* bytes of chunk `index` received */
  private hash = crypto.createHash('sha256');
  private readonly buffers: [Buffer, Buffer];
  private current = 0; /* the buffer chunk `index` gathers in */
  private failed?: OtaError;

  constructor(
    private readonly payload: PayloadInfo,
    startChunk = 0,
  ) {
    checkPayload(payload, 'payload');
    if (!Number.isSafeInteger(startChunk) || startChunk < 0 || startChunk > payload.chunks.length)
      throw formatError(`cannot resume at chunk ${startChunk}: the payload has chunks 0 to ${payload.chunks.length - 1}`);
    this.index = startChunk;
    const bytes = Math.min(payload.chunkSize, payload.size);
    this.buffers = [Buffer.allocUnsafeSlow(bytes), Buffer.allocUnsafeSlow(bytes)];
  }

  get nextChunk(): number {
    return this.index;
  }

  get verifiedBytes(): number {
    return Math.min(this.index * this.payload.chunkSize, this.payload.size);
  }

  private chunkLength(i: number): number {
    return Math.min(this.payload.chunkSize, this.payload.size - i * this.payload.chunkSize);
  }

  private fail(e: OtaError): never {
    this.failed = e;
    throw e;
  }

  /* Payload bytes, split anywhere: the chunks this call completed and
   * verified, in order. A chunk whose sha256 differs throws OTA_CHUNK_HASH
   * from the push that completes it, or, when that push completed good
   * chunks before it, from the next call (push or end), so that those are
   * handed back and written first. */
  push(data: Buffer): ChunkOut[] {
    if (this.failed) throw this.failed;
    const received = this.verifiedBytes + this.fill;
    if (received + data.length > this.payload.size)
      this.fail(formatError(`${received + data.length - this.payload.size} byte(s) past the payload's end (it is ${this.payload.size} bytes)`));
    const out: ChunkOut[] = [];
    let at = 0;
    while (at < data.length) {
      const length = this.chunkLength(this.index);
      const n = Math.min(length - this.fill, data.length - at);
      const piece = data.subarray(at, at + n);
      at += n;
      this.hash.update(piece);
      let chunk: Buffer;
      if (this.fill === 0 && n === length) {
        chunk = piece;
      } else {
        const buffer = this.buffers[this.current]!;
        piece.copy(buffer, this.fill);
        this.fill += n;
        if (this.fill < length) break;
        chunk = buffer.subarray(0, length);
        this.current ^= 1;
        this.fill = 0;
      }
      const digest = this.hash.digest();
      this.hash = crypto.createHash('sha256');
      if (!digest.equals(this.payload.chunks[this.index]!)) {
        const offset = this.index * this.payload.chunkSize;
        const e = new OtaError(
          'OTA_CHUNK_HASH',
          `chunk ${this.index} (payload bytes ${offset} to ${offset + length - 1}) does not match its sha256 in the signed manifest`,
        );
        /* The good chunks before it go back first; the next call throws. */
        if (!out.length) this.fail(e);
        this.failed = e;
        return out;
      }
      out.push({ index: this.index, offset: this.index * this.payload.chunkSize, data: chunk });
      this.index++;
    }
    return out;
  }

  /* Throws OTA_TRUNCATED unless every chunk arrived and verified. */
  end(): void {
    if (this.failed) throw this.failed;
    if (this.index === this.payload.chunks.length) return;
    const n = this.payload.chunks.length;
    this.fail(
      new OtaError(
        'OTA_TRUNCATED',
        `the payload is truncated: ${this.verifiedBytes + this.fill} of ${this.payload.size} bytes arrived (chunk ${this.index} of ${n} incomplete)`,
      ),
    );
  }
}

/* ---- files ---- */

/* Reads a file from `position` in blocks of `size` into one reused buffer:
 * each block is valid until the next is asked for. */
async function* blocks(fh: fs.promises.FileHandle, position: number, size: number): AsyncGenerator<Buffer> {
  const buffer = Buffer.allocUnsafeSlow(size);
  for (;;) {
    let fill = 0;
    while (fill < size) {
      const { bytesRead } = await fh.read(buffer, fill, size - fill, position + fill);
      if (bytesRead === 0) break;
      fill += bytesRead;
    }
    if (fill === 0) return;
    position += fill;
    yield buffer.subarray(0, fill);
    if (fill < size) return;
  }
}

/* The head of a bundle file, through `parse` (parseBundleHead or inspectBundleHead). */
async function readHead<H>(fh: fs.promises.FileHandle, file: string, parse: (b: Buffer) => H | { need: number }): Promise<H> {
  let bytes = Buffer.alloc(0);
  for (;;) {
    const r = parse(bytes);
    if (!(r && typeof r === 'object' && 'need' in r)) return r;
    const more = Buffer.alloc(r.need - bytes.length);
    const { bytesRead } = await fh.read(more, 0, more.length, bytes.length);
    bytes = Buffer.concat([bytes, more.subarray(0, bytesRead)]);
    if (bytesRead < more.length)
      throw new OtaError('OTA_TRUNCATED', `${file}: the bundle's head is truncated: ${bytes.length} of ${r.need} bytes`);
  }
}

/* The head of a bundle file, the signature not checked (`ota inspect`). */
export async function inspectBundleFile(file: string): Promise<UnverifiedHead> {
  const fh = await fs.promises.open(file, 'r');
  try {
    return await readHead(fh, file, inspectBundleHead);
  } finally {
    await fh.close();
  }
}

/* A whole bundle file, as a box would take it: the head and its signature,
 * the facts of `box` that are given, every chunk, and the payload's sha256. */
export async function verifyBundleFile(
  file: string,
  anchors: readonly TrustAnchor[],
  box: Partial<BoxFacts> = {},
): Promise<{ head: BundleHead; bytes: number }> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const head = await readHead(fh, file, (b) => parseBundleHead(b, anchors));
    checkManifestFacts(head.manifest, box);
    const verifier = new ChunkVerifier(head.manifest.payload);
    const whole = crypto.createHash('sha256');
    for await (const block of blocks(fh, head.headBytes, head.manifest.payload.chunkSize)) {
      verifier.push(block);
      whole.update(block);
    }
    verifier.end();
    if (!whole.digest().equals(head.manifest.payload.sha256))
      throw new OtaError('OTA_FORMAT', "every chunk matches, but the payload's sha256 in the manifest does not");
    return { head, bytes: head.headBytes + head.manifest.payload.size };
  } finally {
    await fh.close();
  }
}

/* Pass one over the image: its size, its sha256 and each chunk's. */
async function hashImage(image: string, chunkSize: number): Promise<Omit<PayloadInfo, 'chunkSize'>> {
  const fh = await fs.promises.open(image, 'r');
  try {
    const whole = crypto.createHash('sha256');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const block of blocks(fh, 0, chunkSize)) {
      whole.update(block);
      chunks.push(sha256(block));
      size += block.length;
    }
    return { size, sha256: whole.digest(), chunks };
  } finally {
    await fh.close();
  }
}

export interface CreateBundleOptions {
  image: string;
  out: string;
  key: crypto.KeyObject;
  kid?: string;
  name?: string; /* default vecgate-runtime */
  version: string;
  securityVersion: number;
  arch: string;
  boards: string[];
  chunkSize?: number; /* default 1 MiB */
  imageInfo?: BundleManifest['image'];
}

/* Builds a bundle from an image file, reading it twice (hash, then copy,
 * the copy verified against the hashes so an image that changed between
 * the two is caught), never whole in memory. `out` appears whole or not at
 * all: written beside it, then renamed. */
export async function createBundle(o: CreateBundleOptions): Promise<{ manifest: BundleManifest; bytes: number }> {
  const chunkSize = o.chunkSize ?? DEFAULT_CHUNK_SIZE;
  checkChunkSize(chunkSize, 'payload.chunkSize');
  const hashed = await hashImage(o.image, chunkSize);
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    name: o.name ?? DEFAULT_BUNDLE_NAME,
    version: o.version,
    securityVersion: o.securityVersion,
    arch: o.arch,
    boards: [...o.boards],
    payload: { ...hashed, chunkSize },
    ...(o.imageInfo ? { image: o.imageInfo } : {}),
  };
  const encoded = encodeManifest(manifest);
  decodeManifest(encoded); /* the checks a box makes, before anything is written */
  const sign1 = signSign1(encoded, o.key, o.kid);
  if (sign1.length > MAX_HEAD_BYTES)
    throw formatError(`the signed head would be ${sign1.length} bytes, over ${MAX_HEAD_BYTES}: use a larger chunk size than ${chunkSize}`);
  const prefix = Buffer.alloc(HEAD_PREFIX_BYTES);
  BUNDLE_MAGIC.copy(prefix);
  prefix.writeUInt32BE(sign1.length, BUNDLE_MAGIC.length);

  const tmp = path.join(path.dirname(o.out), `.${path.basename(o.out)}.${process.pid}.tmp`);
  const image = await fs.promises.open(o.image, 'r');
  let out: fs.promises.FileHandle | undefined;
  try {
    out = await fs.promises.open(tmp, 'w', 0o644);
    await out.write(Buffer.concat([prefix, sign1]));
    const verifier = new ChunkVerifier(manifest.payload);
    let read = 0;
    for await (const block of blocks(image, 0, chunkSize)) {
      read += block.length;
      if (read > manifest.payload.size) throw formatError(`${o.image} grew while the bundle was built`);
      for (const c of verifier.push(block)) await out.write(c.data);
    }
    verifier.end();
    await out.sync();
    await out.close();
    out = undefined;
    await fs.promises.rename(tmp, o.out);
  } catch (e) {
    await out?.close();
    await fs.promises.rm(tmp, { force: true });
    if (e instanceof OtaError && e.code !== 'OTA_FORMAT')
      throw formatError(`${o.image} changed while the bundle was built (${e.reason})`);
    throw e;
  } finally {
    await image.close();
  }
  return { manifest, bytes: HEAD_PREFIX_BYTES + sign1.length + manifest.payload.size };
}
