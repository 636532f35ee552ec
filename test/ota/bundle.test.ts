import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import * as cbor from 'cbor';
import { coseVerify, Sign1 } from 'cose-kit';

import { OtaError, VecgateError } from '../../src/errors';
import {
  BUNDLE_MAGIC,
  BundleHead,
  BundleManifest,
  checkManifest,
  ChunkVerifier,
  createBundle,
  encodeManifest,
  HEAD_PREFIX_BYTES,
  inspectBundleHead,
  MAX_HEAD_BYTES,
  parseBundleHead,
  PayloadInfo,
  verifyBundleFile,
} from '../../src/ota/bundle';
import { plainEncoder } from '../../src/transport/cbor';
import { signSign1, TrustAnchor } from '../../src/transport/cose';
import { testDir } from '../helpers';

const KiB = 1024;
const CHUNK = 64 * KiB;
const SIZE = 5 * CHUNK + 1234; /* six chunks, the last one short */
const key = crypto.generateKeyPairSync('ed25519');
const other = crypto.generateKeyPairSync('ed25519');
const anchor: TrustAnchor = { name: 'ops', publicKey: key.publicKey };
const sha256 = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest();

function refused(f: () => unknown, code: string, reason: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof OtaError, `an OtaError, got ${String(e)}`);
    assert.ok(e instanceof VecgateError);
    assert.equal(e.code, code, e.message);
    assert.match(e.reason, reason);
    assert.equal(e.message, `${code}: ${e.reason}`);
    return true;
  });
}

async function refusedAsync(p: Promise<unknown>, code: string, reason: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof OtaError, `an OtaError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.reason, reason);
    return true;
  });
}

function isHead(r: BundleHead | { need: number }): BundleHead {
  assert.ok(!('need' in r), `a head, got ${JSON.stringify(r)}`);
  return r;
}

/* magic + length + COSE_Sign1 + payload, framed by hand. */
function frame(sign1: Buffer, payload: Buffer = Buffer.alloc(0)): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(sign1.length);
  return Buffer.concat([Buffer.from('VGOTA\x00\x01\x0a', 'latin1'), length, sign1, payload]);
}

function flipped(bytes: Buffer, at: number): Buffer {
  const b = Buffer.from(bytes);
  b[at]! ^= 0x40;
  return b;
}

/* Splits `data` at random points (a seeded walk: the same splits each run). */
function* splits(data: Buffer, seed: number, max: number): Generator<Buffer> {
  let s = seed;
  for (let at = 0; at < data.length; ) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const n = 1 + (s % max);
    yield data.subarray(at, at + n);
    at += n;
  }
}

describe('ota/bundle', function () {
  this.timeout(60_000);
  const dir = testDir('ota-bundle');
  const imageFile = path.join(dir, 'image.squashfs');
  const bundleFile = path.join(dir, 'image.vgb');
  const image = crypto.randomBytes(SIZE);
  let bundle: Buffer;
  let head: BundleHead;
  let manifest: BundleManifest;
  const good = () => ({ ...manifest, boards: [...manifest.boards], payload: { ...manifest.payload, chunks: [...manifest.payload.chunks] } });

  /* A manifest object (any shape), signed and framed with the image behind it. */
  function signed(m: unknown, signer = key.privateKey): Buffer {
    return frame(signSign1(plainEncoder.encode(m), signer), image);
  }

  before(async () => {
    fs.writeFileSync(imageFile, image);
    const r = await createBundle({
      image: imageFile,
      out: bundleFile,
      key: key.privateKey,
      version: '1.2.3',
      securityVersion: 4,
      arch: 'x86_64',
      boards: ['sim', 'x86-64-generic'],
      chunkSize: CHUNK,
      imageInfo: { node: '22.11.0', variants: ['x86_64-v2', 'x86_64-v3'], glibc: '2.36' },
    });
    bundle = fs.readFileSync(bundleFile);
    assert.equal(r.bytes, bundle.length);
    head = isHead(parseBundleHead(bundle, [anchor]));
    manifest = head.manifest;
  });

  it('round trip: the head verifies, the manifest says what was built, the payload is the image byte for byte', () => {
    assert.deepEqual(manifest, {
      format: 1,
      name: 'vecgate-runtime',
      version: '1.2.3',
      securityVersion: 4,
      arch: 'x86_64',
      boards: ['sim', 'x86-64-generic'],
      payload: { size: SIZE, sha256: sha256(image), chunkSize: CHUNK, chunks: manifest.payload.chunks },
      image: { node: '22.11.0', variants: ['x86_64-v2', 'x86_64-v3'], glibc: '2.36' },
    });
    assert.equal(manifest.payload.chunks.length, 6);
    assert.equal(head.signer, 'ops');
    assert.equal(head.headBytes, HEAD_PREFIX_BYTES + bundle.readUInt32BE(8));
    assert.equal(bundle.length, head.headBytes + SIZE);
    assert.ok(head.digest.equals(sha256(bundle.subarray(HEAD_PREFIX_BYTES, head.headBytes))), 'digest: the sha256 of the COSE_Sign1');
    const payload = bundle.subarray(head.headBytes);
    assert.ok(payload.equals(image));

    const v = new ChunkVerifier(manifest.payload);
    const out: Buffer[] = [];
    for (const piece of splits(payload, 7, 40_000)) {
      for (const c of v.push(piece)) {
        assert.equal(c.index, out.length);
        assert.equal(c.offset, c.index * CHUNK);
        out.push(Buffer.from(c.data)); /* copied now: a view is valid only until the next push */
      }
    }
    v.end();
    assert.equal(v.nextChunk, 6);
    assert.equal(v.verifiedBytes, SIZE);
    assert.ok(Buffer.concat(out).equals(image));
  });

  it('asks for bytes until it has the head: 12, then 12 + L', () => {
    assert.deepEqual(parseBundleHead(Buffer.alloc(0), [anchor]), { need: 12 });
    assert.deepEqual(parseBundleHead(bundle.subarray(0, 5), [anchor]), { need: 12 });
    assert.deepEqual(parseBundleHead(bundle.subarray(0, 12), [anchor]), { need: head.headBytes });
    assert.deepEqual(parseBundleHead(bundle.subarray(0, head.headBytes - 1), [anchor]), { need: head.headBytes });
    assert.equal(isHead(parseBundleHead(bundle.subarray(0, head.headBytes), [anchor])).headBytes, head.headBytes);
  });

  it('writes what an independent reader expects: the magic, a big-endian length, a COSE_Sign1 cose-kit verifies over the manifest', async () => {
    assert.equal(bundle.subarray(0, 8).toString('hex'), '56474f544100010a');
    assert.ok(BUNDLE_MAGIC.equals(bundle.subarray(0, 8)));
    const sign1 = bundle.subarray(12, head.headBytes);
    assert.equal(sign1.length, (bundle[8]! << 24) | (bundle[9]! << 16) | (bundle[10]! << 8) | bundle[11]!);
    const checked = await coseVerify(sign1, key.publicKey);
    assert.equal(checked.isValid, true, 'cose-kit verifies the head');
    assert.equal((await coseVerify(sign1, other.publicKey)).isValid, false, 'and refuses it for another key');
    const m = cbor.decodeFirstSync(Buffer.from(checked.decoded.payload), { preferMap: true }) as Map<string, unknown>;
    assert.deepEqual([...m.keys()], ['format', 'name', 'version', 'securityVersion', 'arch', 'boards', 'payload', 'image']);
    assert.equal(m.get('securityVersion'), 4);
    const p = m.get('payload') as Map<string, unknown>;
    assert.equal(p.get('size'), SIZE);
    assert.equal(p.get('chunkSize'), CHUNK);
    assert.ok((p.get('sha256') as Buffer).equals(sha256(image)));
    const chunks = p.get('chunks') as Buffer[];
    for (let i = 0; i < 6; i++) assert.ok(chunks[i]!.equals(sha256(image.subarray(i * CHUNK, (i + 1) * CHUNK))), `chunk ${i}'s hash`);
  });

  it('accepts a head signed by cose-kit over the same manifest', async () => {
    const sign1 = Buffer.from((await Sign1.sign({ alg: 'EdDSA' }, {}, encodeManifest(manifest), key.privateKey)).encode());
    const h = isHead(parseBundleHead(frame(sign1, image), [anchor]));
    assert.deepEqual(h.manifest, manifest);
    assert.equal(h.signer, 'ops');
  });

  it('refuses a wrong key and a tampered manifest (OTA_SIGNATURE with cose\'s reason)', () => {
    refused(() => parseBundleHead(bundle, [{ name: 'other', publicKey: other.publicKey }]), 'OTA_SIGNATURE', /does not verify against any trust anchor \(tried other\)/);
    const at = bundle.indexOf('1.2.3');
    assert.ok(at > 12 && at < head.headBytes);
    const tampered = Buffer.from(bundle);
    tampered.write('9', at + 4, 'latin1');
    refused(() => parseBundleHead(tampered, [anchor]), 'OTA_SIGNATURE', /does not verify/);
    refused(() => parseBundleHead(frame(Buffer.from('not cose at all'), image), [anchor]), 'OTA_SIGNATURE', /not a COSE_Sign1/);
    refused(() => parseBundleHead(bundle, []), 'OTA_SIGNATURE', /no trust anchor/);
    const withKid = frame(signSign1(encodeManifest(manifest), key.privateKey, 'k7'), image);
    refused(() => parseBundleHead(withKid, [anchor]), 'OTA_SIGNATURE', /unknown kid "k7"/);
    assert.equal(isHead(parseBundleHead(withKid, [{ ...anchor, kid: 'k7' }])).signer, 'ops');
  });

  it('inspectBundleHead reads the manifest without the signature', () => {
    const withKid = frame(signSign1(encodeManifest(manifest), other.privateKey, 'k7'), image);
    const h = inspectBundleHead(withKid);
    assert.ok(!('need' in h));
    assert.deepEqual(h.manifest, manifest);
    assert.equal(h.kid, 'k7');
    assert.deepEqual(inspectBundleHead(withKid.subarray(0, 20)), { need: h.headBytes });
  });

  it('refuses a bad magic as soon as it shows, and another format number', () => {
    refused(() => parseBundleHead(flipped(bundle, 0), [anchor]), 'OTA_FORMAT', /not a vecgate OTA bundle: it starts 16474f54/);
    refused(() => parseBundleHead(Buffer.from('PK\x03'), [anchor]), 'OTA_FORMAT', /not a vecgate OTA bundle/);
    const v2 = Buffer.from(bundle);
    v2[6] = 2;
    refused(() => parseBundleHead(v2, [anchor]), 'OTA_FORMAT', /bundle format 2; this agent reads format 1/);
  });

  it('refuses a head longer than MAX_HEAD_BYTES before reading it, and an empty one', () => {
    const long = Buffer.from(bundle.subarray(0, 12));
    long.writeUInt32BE(MAX_HEAD_BYTES + 1, 8);
    refused(() => parseBundleHead(long, [anchor]), 'OTA_FORMAT', /the signed head is 1048577 bytes; a box reads at most 1048576/);
    long.writeUInt32BE(MAX_HEAD_BYTES, 8);
    assert.deepEqual(parseBundleHead(long, [anchor]), { need: 12 + MAX_HEAD_BYTES }, 'MAX_HEAD_BYTES itself is allowed');
    long.writeUInt32BE(0, 8);
    refused(() => parseBundleHead(long, [anchor]), 'OTA_FORMAT', /0 bytes long/);
  });

  it('refuses a truncated head in a file (OTA_TRUNCATED)', async () => {
    const file = path.join(dir, 'short-head.vgb');
    fs.writeFileSync(file, bundle.subarray(0, head.headBytes - 10));
    await refusedAsync(verifyBundleFile(file, [anchor]), 'OTA_TRUNCATED', new RegExp(`head is truncated: ${head.headBytes - 10} of ${head.headBytes} bytes`));
    fs.writeFileSync(file, bundle.subarray(0, 7));
    await refusedAsync(verifyBundleFile(file, [anchor]), 'OTA_TRUNCATED', /7 of 12 bytes/);
  });

  for (const [where, index] of [
    ['first', 0],
    ['a middle', 3],
    ['the last (short)', 5],
  ] as const) {
    it(`catches a flipped byte in ${where} chunk at that chunk's index, after handing back every chunk before it`, async () => {
      const offset = index * CHUNK + (index === 5 ? 1000 : 777);
      const bad = flipped(image, offset);
      const v = new ChunkVerifier(manifest.payload);
      const seen: number[] = [];
      const end = Math.min(SIZE, (index + 1) * CHUNK) - 1;
      assert.throws(
        () => {
          for (const piece of splits(bad, index + 1, 50_000)) seen.push(...v.push(piece).map((c) => c.index));
          v.end();
        },
        (e: unknown) => {
          assert.ok(e instanceof OtaError);
          assert.equal(e.code, 'OTA_CHUNK_HASH');
          assert.match(e.reason, new RegExp(`^chunk ${index} \\(payload bytes ${index * CHUNK} to ${end}\\) does not match`));
          return true;
        },
      );
      assert.deepEqual(seen, [...Array(index).keys()]);
      assert.equal(v.nextChunk, index);
      refused(() => v.push(Buffer.alloc(1)), 'OTA_CHUNK_HASH', new RegExp(`^chunk ${index} `));
      const file = path.join(dir, `flipped-${index}.vgb`);
      fs.writeFileSync(file, Buffer.concat([bundle.subarray(0, head.headBytes), bad]));
      await refusedAsync(verifyBundleFile(file, [anchor]), 'OTA_CHUNK_HASH', new RegExp(`^chunk ${index} `));
    });
  }

  it('hands back the good chunks of a push before throwing for a bad one in it (the next call throws)', () => {
    const v = new ChunkVerifier(manifest.payload);
    const got = v.push(flipped(image, 2 * CHUNK + 5));
    assert.deepEqual(got.map((c) => c.index), [0, 1]);
    assert.ok(got[1]!.data.equals(image.subarray(CHUNK, 2 * CHUNK)));
    assert.equal(v.nextChunk, 2);
    refused(() => v.end(), 'OTA_CHUNK_HASH', /^chunk 2 \(payload bytes 131072 to 196607\)/);
    refused(() => v.push(Buffer.alloc(1)), 'OTA_CHUNK_HASH', /^chunk 2 /);
  });

  it('refuses a truncated payload (OTA_TRUNCATED, how many bytes of how many) and bytes past its end (OTA_FORMAT)', async () => {
    const v = new ChunkVerifier(manifest.payload);
    v.push(image.subarray(0, SIZE - 10));
    assert.equal(v.nextChunk, 5);
    refused(() => v.end(), 'OTA_TRUNCATED', new RegExp(`${SIZE - 10} of ${SIZE} bytes arrived \\(chunk 5 of 6 incomplete\\)`));
    const file = path.join(dir, 'short-payload.vgb');
    fs.writeFileSync(file, bundle.subarray(0, bundle.length - 3 * CHUNK));
    await refusedAsync(verifyBundleFile(file, [anchor]), 'OTA_TRUNCATED', new RegExp(`${SIZE - 3 * CHUNK} of ${SIZE} bytes`));

    const over = new ChunkVerifier(manifest.payload);
    over.push(image.subarray(0, SIZE - 5));
    refused(() => over.push(Buffer.alloc(6)), 'OTA_FORMAT', new RegExp(`1 byte\\(s\\) past the payload's end \\(it is ${SIZE} bytes\\)`));
    fs.writeFileSync(file, Buffer.concat([bundle, Buffer.from('x')]));
    await refusedAsync(verifyBundleFile(file, [anchor]), 'OTA_FORMAT', /1 byte\(s\) past the payload's end/);
  });

  it("verifyBundleFile checks the payload's sha256 as well as each chunk", async () => {
    const wrong = good();
    wrong.payload.sha256 = sha256(Buffer.from('something else'));
    const file = path.join(dir, 'wrong-sha.vgb');
    fs.writeFileSync(file, signed(wrong));
    await refusedAsync(verifyBundleFile(file, [anchor]), 'OTA_FORMAT', /every chunk matches, but the payload's sha256/);
    const r = await verifyBundleFile(bundleFile, [anchor], { board: 'sim' });
    assert.equal(r.bytes, bundle.length);
    await refusedAsync(verifyBundleFile(bundleFile, [anchor], { board: 'rpi4' }), 'OTA_BOARD', /this box is rpi4/);
  });

  it('checks the bundle against the box: board, arch, security version (equal allowed)', () => {
    const box = { board: 'sim', arch: 'x86_64', securityVersion: 4 };
    checkManifest(manifest, box);
    checkManifest(manifest, { ...box, board: 'x86-64-generic', securityVersion: 3 });
    refused(() => checkManifest(manifest, { ...box, board: 'rpi4' }), 'OTA_BOARD', /the bundle is for boards sim, x86-64-generic; this box is rpi4/);
    refused(() => checkManifest(manifest, { ...box, arch: 'arm64' }), 'OTA_ARCH', /the bundle is for arch x86_64; this box is arm64/);
    refused(() => checkManifest(manifest, { ...box, securityVersion: 5 }), 'OTA_DOWNGRADE', /security version 4 is lower than this box's 5/);
  });

  it('refuses a chunk size that is not a power of two or out of range, signed or asked of createBundle', async () => {
    for (const chunkSize of [100_000, 32 * KiB, 32 * 1024 * KiB]) {
      const m = good();
      m.payload.chunkSize = chunkSize;
      m.payload.chunks = m.payload.chunks.slice(0, Math.ceil(SIZE / chunkSize));
      refused(() => parseBundleHead(signed(m), [anchor]), 'OTA_FORMAT', new RegExp(`^manifest.payload.chunkSize: ${chunkSize} is not a power of two from 65536 \\(64 KiB\\) to 16777216 \\(16 MiB\\)`));
      refused(() => new ChunkVerifier(m.payload), 'OTA_FORMAT', /manifest.payload.chunkSize/);
    }
    const out = path.join(dir, 'odd', 'never.vgb');
    fs.mkdirSync(path.dirname(out));
    const o = { image: imageFile, out, key: key.privateKey, version: '1', securityVersion: 1, arch: 'x86_64', boards: ['sim'] };
    await refusedAsync(createBundle({ ...o, chunkSize: 1000 }), 'OTA_FORMAT', /chunkSize: 1000 is not a power of two/);
    assert.deepEqual(fs.readdirSync(path.dirname(out)), [], 'nothing written, no temporary left');
    await refusedAsync(createBundle({ ...o, boards: [] }), 'OTA_FORMAT', /manifest.boards: empty/);
    assert.deepEqual(fs.readdirSync(path.dirname(out)), []);
  });

  it('refuses a chunks list that does not match the size', () => {
    const short = good();
    short.payload.chunks.pop();
    refused(() => parseBundleHead(signed(short), [anchor]), 'OTA_FORMAT', new RegExp(`^manifest.payload.chunks: 5 hashes, where ${SIZE} bytes in chunks of 65536 make 6`));
    const big = good();
    big.payload.size = 6 * CHUNK + 1;
    refused(() => parseBundleHead(signed(big), [anchor]), 'OTA_FORMAT', /manifest.payload.chunks: 6 hashes, where 393217 bytes in chunks of 65536 make 7/);
    refused(() => new ChunkVerifier(short.payload), 'OTA_FORMAT', /manifest.payload.chunks: 5 hashes/);
  });

  it('checks every field of the manifest, naming it', () => {
    type M = Record<string, unknown> & { payload: Record<string, unknown>; image?: Record<string, unknown> };
    const cases: [string, (m: M) => void, RegExp][] = [
      ['format 2', (m) => (m.format = 2), /^manifest.format: 2; this agent reads format 1/],
      ['no version', (m) => delete m.version, /^manifest.version: missing/],
      ['empty name', (m) => (m.name = ''), /^manifest.name: text "", where non-empty text/],
      ['text securityVersion', (m) => (m.securityVersion = '4'), /^manifest.securityVersion: text "4", where an unsigned integer/],
      ['negative securityVersion', (m) => (m.securityVersion = -1), /^manifest.securityVersion: -1, where an unsigned integer/],
      ['arch a number', (m) => (m.arch = 64), /^manifest.arch: 64, where non-empty text/],
      ['no boards', (m) => (m.boards = []), /^manifest.boards: empty/],
      ['a board not text', (m) => (m.boards = ['sim', 7]), /^manifest.boards\[1\]: 7, where non-empty text/],
      ['an unknown key', (m) => (m.channel = 'beta'), /^manifest.channel: unknown key \(format 1 has format, name/],
      ['payload not a map', (m) => (m.payload = [1] as unknown as M['payload']), /^manifest.payload: an array, where a map/],
      ['payload size 0', (m) => (m.payload.size = 0), /^manifest.payload.size: 0; a bundle carries an image/],
      ['a short sha256', (m) => (m.payload.sha256 = Buffer.alloc(31)), /^manifest.payload.sha256: a byte string \(31 bytes\), where a 32-byte sha256/],
      ['a chunk hash as text', (m) => ((m.payload.chunks as unknown[])[2] = 'ab'), /^manifest.payload.chunks\[2\]: text "ab", where a 32-byte sha256/],
      ['chunks not an array', (m) => (m.payload.chunks = Buffer.alloc(32)), /^manifest.payload.chunks: a byte string \(32 bytes\), where an array/],
      ['an unknown payload key', (m) => (m.payload.compression = 'zstd'), /^manifest.payload.compression: unknown key/],
      ['image.variants not an array', (m) => (m.image!.variants = 'x86_64-v3'), /^manifest.image.variants: text "x86_64-v3", where an array of text/],
      ['image.glibc a number', (m) => (m.image!.glibc = 2.36), /^manifest.image.glibc: 2.36, where non-empty text/],
    ];
    for (const [what, change, reason] of cases) {
      const m = good() as unknown as M;
      m.image = { ...m.image };
      change(m);
      refused(() => parseBundleHead(signed(m), [anchor]), 'OTA_FORMAT', reason);
      assert.ok(true, what);
    }
    refused(() => parseBundleHead(frame(signSign1(plainEncoder.encode([1, 2]), key.privateKey)), [anchor]), 'OTA_FORMAT', /^manifest: an array, where a map/);
    refused(() => parseBundleHead(frame(signSign1(Buffer.from([0xa1, 0x61]), key.privateKey)), [anchor]), 'OTA_FORMAT', /^manifest: not CBOR/);
    const noImage = good() as unknown as M;
    delete noImage.image;
    assert.equal(isHead(parseBundleHead(signed(noImage), [anchor])).manifest.image, undefined, 'image is optional');
  });

  it('resumes at a chunk boundary, and refuses a resume point past the last chunk', () => {
    const v = new ChunkVerifier(manifest.payload, 3);
    assert.equal(v.nextChunk, 3);
    assert.equal(v.verifiedBytes, 3 * CHUNK);
    const got: number[] = [];
    const rest = image.subarray(3 * CHUNK);
    for (const piece of splits(rest, 3, 30_000)) {
      for (const c of v.push(piece)) {
        got.push(c.index);
        assert.ok(c.data.equals(image.subarray(c.offset, c.offset + c.data.length)), `chunk ${c.index} at its offset`);
      }
    }
    v.end();
    assert.deepEqual(got, [3, 4, 5]);
    assert.equal(v.verifiedBytes, SIZE);
    new ChunkVerifier(manifest.payload, 6).end(); /* everything was there already */
    refused(() => new ChunkVerifier(manifest.payload, 7), 'OTA_FORMAT', /cannot resume at chunk 7: the payload has chunks 0 to 5/);
    refused(() => new ChunkVerifier(manifest.payload, 1.5), 'OTA_FORMAT', /cannot resume at chunk 1.5/);
    const misaligned = new ChunkVerifier(manifest.payload, 3);
    refused(() => misaligned.push(image.subarray(3 * CHUNK + 1, 4 * CHUNK + 1)), 'OTA_CHUNK_HASH', /^chunk 3 /);
  });

  it('hands back chunk data that stays right until the next push, whatever the splits', () => {
    const payload: PayloadInfo = manifest.payload;
    for (const max of [1, 1000, CHUNK - 1, CHUNK + 1, 3 * CHUNK + 17, SIZE]) {
      const v = new ChunkVerifier(payload);
      let next = 0;
      const pieces = max === 1 ? [image.subarray(0, CHUNK + 5), ...splits(image.subarray(CHUNK + 5), 1, 2 * CHUNK)] : [...splits(image, max, max)];
      for (const piece of pieces) {
        const got = v.push(Buffer.from(piece));
        for (const c of got) {
          assert.equal(c.index, next++);
          assert.ok(c.data.equals(image.subarray(c.offset, c.offset + Math.min(CHUNK, SIZE - c.offset))), `chunk ${c.index} (splits up to ${max})`);
        }
      }
      v.end();
      assert.equal(next, 6);
    }
  });

  it('verifies 64 MB at well over 100 MB/s (the figure is printed)', () => {
    const size = 64 * 1024 * 1024;
    const chunkSize = 1024 * 1024;
    const data = crypto.randomBytes(size);
    const chunks: Buffer[] = [];
    for (let o = 0; o < size; o += chunkSize) chunks.push(sha256(data.subarray(o, o + chunkSize)));
    const payload = { size, sha256: sha256(data), chunkSize, chunks };
    let best = 0;
    for (let round = 0; round < 3; round++) {
      const v = new ChunkVerifier(payload);
      const t0 = process.hrtime.bigint();
      let n = 0;
      for (let o = 0; o < size; o += 64 * 1024) n += v.push(data.subarray(o, o + 64 * 1024)).length;
      v.end();
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      assert.equal(n, 64);
      best = Math.max(best, size / 1e6 / s);
    }
    console.log(`      ChunkVerifier: ${best.toFixed(0)} MB/s on 64 MB in 64 KiB pushes, 1 MiB chunks`);
    assert.ok(best > 100, `${best.toFixed(0)} MB/s`);
  });
});
