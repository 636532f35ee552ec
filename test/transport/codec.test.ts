import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as cbor from 'cbor';

import { SignatureError } from '../../src/errors';
import { ConfigError, FieldProblem } from '../../src/models/check';
import { CborError } from '../../src/transport/cbor';
import {
  decodeCbor,
  decodeDocument,
  DecodeDocumentOptions,
  DEFAULT_MAX_DOCUMENT_BYTES,
  encodeCbor,
  readDocumentFile,
} from '../../src/transport/codec';
import { signSign1, TrustAnchor, verifySign1 } from '../../src/transport/cose';

const key = crypto.generateKeyPairSync('ed25519');
const anchor: TrustAnchor = { name: 'ops', kid: 'k1', publicKey: key.publicKey };
const doc = { version: 3, items: { 'interfaces/wan0': { mtu: 1500, addresses: ['192.0.2.1/24'] }, 'system/settings': { hostname: 'gw' } } };
const open: DecodeDocumentOptions = { anchors: [anchor], allowUnsigned: true };
const strict: DecodeDocumentOptions = { anchors: [anchor], allowUnsigned: false };
const hex = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');

function refused(f: () => unknown, expected: FieldProblem | { path: string; reason: RegExp }): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof ConfigError, `a ConfigError, got ${String(e)}`);
    assert.equal(e.problems.length, 1);
    const [p] = e.problems;
    assert.equal(p!.path, expected.path);
    if (expected.reason instanceof RegExp) assert.match(p!.reason, expected.reason);
    else assert.equal(p!.reason, expected.reason);
    return true;
  });
}

/* A valid document of exactly n bytes. */
function documentOfSize(n: number): Buffer {
  const encode = (padding: number) => encodeCbor({ version: 1, items: {}, note: 'x'.repeat(padding) });
  let padding = n - encode(0).length;
  while (encode(padding).length > n) padding--; /* the string's length header grows with it */
  const bytes = encode(padding);
  assert.equal(bytes.length, n);
  return bytes;
}

describe('transport/codec: decodeDocument', () => {
  it('decodes an unsigned document where unsigned ones are allowed', () => {
    assert.deepEqual(decodeDocument(encodeCbor(doc), open), { document: doc, signed: false });
  });

  it('refuses an unsigned document where a signature is required', () => {
    refused(() => decodeDocument(encodeCbor(doc), strict), { path: 'signature', reason: 'unsigned document, and this device requires a signature' });
  });

  it('verifies a signed document and says by which anchor', () => {
    const d = decodeDocument(signSign1(encodeCbor(doc), key.privateKey, 'k1'), strict);
    assert.deepEqual(d, { document: doc, signed: true, kid: 'k1', anchor: 'ops' });
  });

  it('refuses a bad signature under "signature", with the SignatureError reason', () => {
    const bytes = signSign1(encodeCbor(doc), key.privateKey, 'k1');
    bytes[bytes.length - 1]! ^= 1;
    let reason = '';
    try {
      verifySign1(bytes, [anchor]);
    } catch (e) {
      reason = (e as SignatureError).reason;
    }
    assert.match(reason, /^signature does not verify/);
    refused(() => decodeDocument(bytes, open), { path: 'signature', reason });
    const other = crypto.generateKeyPairSync('ed25519').privateKey;
    refused(() => decodeDocument(signSign1(encodeCbor(doc), other, 'k9'), open), { path: 'signature', reason: /^unknown kid "k9"/ });
  });

  it('refuses a signed payload that is not plain CBOR under "payload" or the field', () => {
    const signed = (payload: Buffer) => signSign1(payload, key.privateKey, 'k1');
    refused(() => decodeDocument(signed(Buffer.from(JSON.stringify(doc))), strict), { path: 'payload', reason: /^not CBOR: the data item at byte 0 runs past the end/ });
    refused(() => decodeDocument(signed(Buffer.concat([encodeCbor(doc), hex('00')])), strict), { path: 'payload', reason: /^not CBOR: trailing bytes/ });
    refused(() => decodeDocument(signed(hex('a1 6776657273696f6e c1 00')), strict), { path: 'payload', reason: /^tag 1 at byte 9/ });
    refused(() => decodeDocument(signed(hex('a1 656974656d73 a1 01 00')), strict), { path: 'items', reason: 'map key 1 (a number) is not a string' });
  });

  it('refuses a message over the limit by its size alone, before reading a byte of it', () => {
    const limit = `over the limit of ${DEFAULT_MAX_DOCUMENT_BYTES} bytes`;
    /* Not CBOR at all: only the size check can have refused it. */
    refused(() => decodeDocument(Buffer.alloc(DEFAULT_MAX_DOCUMENT_BYTES + 1, 0xff), open), { path: 'document', reason: `1048577 bytes, ${limit}` });
    refused(() => decodeDocument(documentOfSize(DEFAULT_MAX_DOCUMENT_BYTES + 1), open), { path: 'document', reason: `1048577 bytes, ${limit}` });
    assert.equal((decodeDocument(documentOfSize(DEFAULT_MAX_DOCUMENT_BYTES), open).document as { version: number }).version, 1);
    refused(() => decodeDocument(documentOfSize(101), { ...open, maxBytes: 100 }), { path: 'document', reason: '101 bytes, over the limit of 100 bytes' });
    assert.ok(decodeDocument(documentOfSize(100), { ...open, maxBytes: 100 }));
    /* The signature's envelope counts: the message is what is limited. */
    const envelope = signSign1(documentOfSize(DEFAULT_MAX_DOCUMENT_BYTES - 10), key.privateKey, 'k1');
    refused(() => decodeDocument(envelope, strict), { path: 'document', reason: new RegExp(`^${envelope.length} bytes, over the limit`) });
  });

  it('refuses bytes that are not CBOR under "document", naming the byte', () => {
    refused(() => decodeDocument(Buffer.from(JSON.stringify(doc)), strict), {
      path: 'document',
      reason: /^not CBOR: the data item at byte 0 runs past the end \(\d+ bytes\) \(it looks like JSON text/,
    });
    refused(() => decodeDocument(hex('a1 6161 1c'), open), { path: 'document', reason: 'not CBOR: reserved additional information 28 at byte 3' });
    refused(() => decodeDocument(hex('ff'), open), { path: 'document', reason: 'not CBOR: unexpected break (0xff) at byte 0' });
    refused(() => decodeDocument(Buffer.alloc(0), open), { path: 'document', reason: 'not CBOR: no bytes' });
    refused(() => decodeDocument(hex('a1 6161 62 c328'), open), { path: 'document', reason: 'not CBOR: the text string at byte 3 is not valid UTF-8' });
    refused(() => decodeDocument(hex('a1 6161 5f 41 61 61 62 ff'), open), { path: 'document', reason: /chunk at byte 6 of the indefinite-length string at byte 3/ });
    refused(() => decodeDocument(signSign1(encodeCbor(doc), key.privateKey).subarray(0, 30), strict), { path: 'document', reason: /^not CBOR: .*runs past the end/ });
  });

  it('refuses trailing bytes after the document or after a signed message', () => {
    const bytes = encodeCbor(doc);
    refused(() => decodeDocument(Buffer.concat([bytes, hex('00')]), open), {
      path: 'document',
      reason: `not CBOR: trailing bytes: the data item ends at byte ${bytes.length} of ${bytes.length + 1}`,
    });
    const signed = signSign1(bytes, key.privateKey, 'k1');
    refused(() => decodeDocument(Buffer.concat([signed, hex('a0')]), strict), { path: 'document', reason: /^not CBOR: trailing bytes/ });
  });

  it('refuses duplicate map keys, however the key is encoded', () => {
    refused(() => decodeDocument(hex('a2 6161 01 6161 02'), open), { path: 'document', reason: 'not CBOR: duplicate key "a" at byte 4 in the map at byte 0' });
    refused(() => decodeDocument(hex('a2 6161 01 780161 02'), open), { path: 'document', reason: /duplicate key "a"/ });
  });

  it('refuses non-string map keys, naming the map', () => {
    const items = new Map<unknown, unknown>([['interfaces/wan0', new Map<unknown, unknown>([[1, 'x']])]]);
    refused(() => decodeDocument(cbor.encode(new Map<unknown, unknown>([['version', 1], ['items', items]])), open), {
      path: 'items["interfaces/wan0"]',
      reason: 'map key 1 (a number) is not a string',
    });
    refused(() => decodeDocument(hex('a1 f5 01'), open), { path: 'document', reason: 'map key true (boolean) is not a string' });
  });

  it('gives integers as numbers, and refuses those beyond 2^53 by path', () => {
    const version = (h: string) => decodeDocument(hex(`a1 6776657273696f6e ${h}`), open).document;
    assert.deepEqual(version('1b 0000010000000000'), { version: 2 ** 40 }, 'an 8-byte integer that fits');
    assert.deepEqual(version('3b 000000ffffffffff'), { version: -(2 ** 40) });
    assert.deepEqual(version('1b 001fffffffffffff'), { version: Number.MAX_SAFE_INTEGER });
    refused(() => version('1b 0020000000000000'), { path: 'version', reason: /^integer 9007199254740992 is beyond ±\(2\^53 - 1\)/ });
    refused(() => version('3b 0fffffffffffffff'), { path: 'version', reason: /^integer -1152921504606846976 is beyond/ });
  });

  it('refuses what JSON has no form for: tags, byte strings, undefined, NaN, other simple values', () => {
    const items = (h: string) => () => decodeDocument(hex(`a1 656974656d73 a1 6178 ${h}`), open);
    refused(items('c1 00'), { path: 'document', reason: /^tag 1 at byte 10: plain data holds no tagged values/ });
    refused(items('40'), { path: 'items.x', reason: /^a byte string \(0 bytes\)/ });
    refused(items('f7'), { path: 'items.x', reason: /^undefined is not a value here/ });
    refused(items('f9 7e00'), { path: 'items.x', reason: 'NaN is not a finite number' });
    refused(items('f0'), { path: 'document', reason: /^simple value 16 at byte 10/ });
    refused(() => decodeDocument(hex('d862 80'), open), { path: 'document', reason: /^tag 98 at byte 0: a document is plain CBOR or a COSE_Sign1/ });
  });

  it('names fields as the models do', () => {
    const bad = cbor.encode({ version: 1, items: { 'route/a': { paths: [{ via: '10.0.0.1' }, { via: Buffer.alloc(1) }] } } });
    refused(() => decodeDocument(bad, open), { path: 'items["route/a"].paths[1].via', reason: /^a byte string/ });
  });

  it('keeps a "__proto__" key as data', () => {
    const d = decodeDocument(hex('a2 69 5f5f70726f746f5f5f a1 6161 01 6178 02'), open).document as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(d), Object.prototype);
    assert.deepEqual(Object.keys(d), ['__proto__', 'x']);
    assert.equal((d as { a?: number }).a, undefined);
  });

  it('refuses nesting deeper than 64 levels, and takes 64', () => {
    const nested = (n: number) => Buffer.concat([Buffer.alloc(n, 0x81), hex('00')]);
    assert.ok(decodeDocument(nested(64), open));
    refused(() => decodeDocument(nested(65), open), { path: 'document', reason: 'nested deeper than 64 levels at byte 65' });
    refused(() => decodeDocument(Buffer.alloc(200_000, 0x9f), open), { path: 'document', reason: /^nested deeper than 64/ });
  });
});

describe('transport/codec: encodeCbor and decodeCbor', () => {
  it('writes preferred plain CBOR that an independent decoder reads back', () => {
    assert.equal(encodeCbor({ a: 1 }).toString('hex'), 'a1616101', 'a one-byte map header, no cbor-x record or 16-bit length');
    assert.equal(encodeCbor(2 ** 40).toString('hex'), '1b0000010000000000', 'an integer, not a float');
    assert.equal(encodeCbor(-(2 ** 40)).toString('hex'), '3b000000ffffffffff');
    assert.equal(encodeCbor(1.5).toString('hex'), 'fb3ff8000000000000', 'cbor-x writes no half floats');
    const state = { state: 'online', counters: [0, 2 ** 33, -1, 1.25], up: true, none: null, nested: { 'route/a': 'ok' } };
    assert.deepEqual(cbor.decodeFirstSync(encodeCbor(state)), state);
    assert.deepEqual(decodeCbor(encodeCbor(state)), state);
  });

  it('follows JSON for undefined, functions, NaN and toJSON', () => {
    const at = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));
    const v = { a: undefined, b: [undefined, () => 1, NaN, Infinity], at, f: () => 1 };
    assert.deepEqual(decodeCbor(encodeCbor(v)), JSON.parse(JSON.stringify(v)));
    assert.deepEqual(decodeCbor(encodeCbor(v)), { b: [null, null, null, null], at: '2024-01-02T03:04:05.000Z' });
  });

  it('throws on what has no plain-data form', () => {
    assert.throws(() => encodeCbor({ m: new Map() }), { name: 'TypeError', message: /value\.m: a map has no plain-data form/ });
    assert.throws(() => encodeCbor({ b: Buffer.from('x') }), { name: 'TypeError', message: /value\.b: a byte string/ });
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    assert.throws(() => encodeCbor(loop), { name: 'TypeError', message: /circular/ });
    assert.throws(() => encodeCbor(2n ** 64n), { name: 'TypeError', message: /beyond the 64-bit integers/ });
    assert.throws(() => encodeCbor(undefined), TypeError);
  });

  it('decodeCbor refuses with a CborError naming the message or the field', () => {
    assert.throws(() => decodeCbor(hex('a1 6161')), (e: unknown) => e instanceof CborError && e.code === 'CBOR_INVALID' && e.path === 'message');
    assert.throws(() => decodeCbor(hex('a1 6161 a1 02 00')), (e: unknown) => e instanceof CborError && e.path === 'a' && /map key 2/.test(e.reason));
  });
});

describe('transport/codec: readDocumentFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vecgate-codec-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, content: string | Buffer) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    return file;
  };

  it('reads JSON, YAML and CBOR, by extension or by their first byte', () => {
    assert.deepEqual(readDocumentFile(write('d.json', JSON.stringify(doc))), { document: doc });
    const yaml = 'version: 3\nitems:\n  interfaces/wan0:\n    mtu: 1500\n    addresses: [192.0.2.1/24]\n  system/settings: {hostname: gw}\n';
    assert.deepEqual(readDocumentFile(write('d.yaml', yaml)), { document: doc });
    assert.deepEqual(readDocumentFile(write('d.yml', yaml)), { document: doc });
    assert.deepEqual(readDocumentFile(write('d.cbor', encodeCbor(doc))), { document: doc });
    assert.deepEqual(readDocumentFile(write('cbor-doc', encodeCbor(doc))), { document: doc }, 'sniffed CBOR');
    assert.deepEqual(readDocumentFile(write('json-doc', JSON.stringify(doc))), { document: doc }, 'sniffed text');
    assert.deepEqual(readDocumentFile(write('bom.json', `\uFEFF${JSON.stringify(doc)}`)), { document: doc });
  });

  it('returns a pre-signed COSE_Sign1 file untouched, with its payload decoded', () => {
    const signed = signSign1(encodeCbor(doc), key.privateKey, 'k1');
    const r = readDocumentFile(write('d.cose', signed));
    assert.deepEqual(r.document, doc);
    assert.ok(r.bytes && r.bytes.equals(signed));
    const r2 = readDocumentFile(write('d.cbor', signed));
    assert.ok(r2.bytes?.equals(signed));
    const detached = Buffer.concat([hex('d2 84 43 a10127 a0 f6 5840'), Buffer.alloc(64)]);
    const file = write('detached.cbor', detached);
    refused(() => readDocumentFile(file), { path: 'signature', reason: `detached payload unsupported: element 2 is nil; the document must travel inside the message (in ${file})` });
  });

  it('names the file and the line of a JSON or YAML error', () => {
    const json = write('bad.json', '{\n  "version": 3,\n  "items": { "a": }\n}\n');
    refused(() => readDocumentFile(json), { path: 'document', reason: new RegExp(`^not JSON: .* \\(in ${json}, line 3, column 19\\)$`) });
    const trailing = write('trailing.json', '{"version": 3}\n\nx');
    refused(() => readDocumentFile(trailing), { path: 'document', reason: new RegExp(`\\(in ${trailing}, line 3, column 1\\)$`) });
    const yaml = write('bad.yaml', 'version: 3\nitems:\n  a: b: c\n');
    refused(() => readDocumentFile(yaml), {
      path: 'document',
      reason: `not YAML: Nested mappings are not allowed in compact mappings (in ${yaml}, line 3, column 6)`,
    });
    const dup = write('dup.yaml', 'version: 3\nversion: 4\n');
    refused(() => readDocumentFile(dup), { path: 'document', reason: new RegExp(`^not YAML: Map keys must be unique \\(in ${dup}, line 2, column 1\\)$`) });
    const tag = write('tag.yaml', 'version: !foo 3\n');
    refused(() => readDocumentFile(tag), { path: 'document', reason: new RegExp(`^not YAML: Unresolved tag: !foo \\(in ${tag}, line 1`) });
    const nan = write('nan.yaml', 'version: 3\nitems:\n  a: {mtu: .nan}\n');
    refused(() => readDocumentFile(nan), { path: 'items.a.mtu', reason: `NaN is not a finite number (in ${nan})` });
  });

  it('names the file and the byte of a CBOR error', () => {
    const file = write('bad.cbor', Buffer.concat([encodeCbor(doc), hex('00')]));
    refused(() => readDocumentFile(file), { path: 'document', reason: new RegExp(`^not CBOR: trailing bytes: the data item ends at byte \\d+ of \\d+ \\(in ${file}\\)$`) });
  });

  it('names a file it cannot read', () => {
    const missing = path.join(dir, 'missing.json');
    assert.throws(() => readDocumentFile(missing), (e: unknown) => (e as { code?: string }).code === 'DOCUMENT_UNREADABLE' && (e as Error).message.includes(missing));
  });
});
