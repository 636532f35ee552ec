import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as cbor from 'cbor';
import { decode as cborxDecode, Tag } from 'cbor-x';
import { coseVerify, Sign1 } from 'cose-kit';

import { SignatureError } from '../../src/errors';
import { encodeCbor, plainEncoder } from '../../src/transport/cbor';
import { generateSigningKey, loadTrustAnchor, signSign1, TrustAnchor, verifySign1 } from '../../src/transport/cose';

/* RFC 8032 section 7.1, TEST 1. */
const RFC8032_SECRET = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const RFC8032_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const RFC8032_EMPTY_SIGNATURE =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';

/* COSE Working Group Examples, eddsa-examples/eddsa-sig-01.json ("EdDSA - 25519 -
 * sign0"): a tagged COSE_Sign1, protected {1: -8, 3: 0}, unprotected {4: '11'},
 * signed with the RFC 8032 TEST 1 key. */
const COSE_WG_EDDSA_SIG_01 =
  'D28445A201270300A10442313154546869732069732074686520636F6E74656E742E5840' +
  '7142FD2FF96D56DB85BEE905A76BA1D0B7321A95C8C4D3607C5781932B7AFB8711497DFA751BF40B58B3BCC32300B1487F3DB34085EEF013BF08F4A44D6FEF0D';
/* The same examples' ToBeSign for protected {1: -8} (h'A10127') and that
 * payload (eddsa-sig-02.json, intermediates). */
const COSE_WG_TO_BE_SIGNED = '846A5369676E61747572653143A101274054546869732069732074686520636F6E74656E742E';
const CONTENT = Buffer.from('This is the content.');

function rfc8032Keys(): { privateKey: crypto.KeyObject; publicKey: crypto.KeyObject } {
  const x = Buffer.from(RFC8032_PUBLIC, 'hex').toString('base64url');
  const d = Buffer.from(RFC8032_SECRET, 'hex').toString('base64url');
  return {
    privateKey: crypto.createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x, d }, format: 'jwk' }),
    publicKey: crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }),
  };
}

const keyA = crypto.generateKeyPairSync('ed25519');
const keyB = crypto.generateKeyPairSync('ed25519');
const anchorA: TrustAnchor = { name: 'ops-a', kid: 'k1', publicKey: keyA.publicKey };
const anchorB: TrustAnchor = { name: 'ops-b', kid: 'k2', publicKey: keyB.publicKey };
const payload = encodeCbor({ version: 7, items: { 'route/default': { via: '192.0.2.1' } } });

function refused(f: () => unknown, reason: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof SignatureError, `a SignatureError, got ${String(e)}`);
    assert.equal(e.code, 'SIGNATURE_INVALID');
    assert.match(e.reason, reason);
    return true;
  });
}

function flipped(bytes: Buffer, at: number): Buffer {
  const b = Buffer.from(bytes);
  b[at]! ^= 0x01;
  return b;
}

describe('transport/cose', () => {
  it('signs and verifies, with and without a kid', () => {
    const withKid = verifySign1(signSign1(payload, keyA.privateKey, 'k1'), [anchorB, anchorA]);
    assert.deepEqual(withKid, { payload, kid: 'k1', anchor: 'ops-a' });
    const noKid = verifySign1(signSign1(payload, keyB.privateKey), [anchorA, anchorB]);
    assert.deepEqual(noKid, { payload, anchor: 'ops-b' }, 'without a kid each anchor is tried');
  });

  it('writes plain CBOR: tag 18 over [protected bstr, {}, payload, 64-byte signature], read by an independent decoder', () => {
    const bytes = signSign1(payload, keyA.privateKey, 'k1');
    assert.equal(bytes[0], 0xd2, 'tag 18 in one byte');
    const outer = cbor.decodeFirstSync(bytes);
    assert.ok(outer instanceof cbor.Tagged);
    assert.equal(outer.tag, 18);
    const [prot, unprot, body, signature] = outer.value as [Buffer, unknown, Buffer, Buffer];
    assert.deepEqual(cbor.decodeFirstSync(prot), new Map<number, unknown>([[1, -8], [4, Buffer.from('k1')]]));
    assert.equal(prot.toString('hex'), 'a2012704426b31', 'the protected header in preferred serialization, no tag 259');
    assert.equal(Object.keys(unprot as object).length, 0);
    assert.ok(body.equals(payload));
    assert.equal(signature.length, 64);
  });

  it('matches the hand-derived Sig_structure and envelope for the RFC 8032 key byte for byte', () => {
    const { privateKey, publicKey } = rfc8032Keys();
    assert.equal(crypto.sign(null, Buffer.alloc(0), privateKey).toString('hex'), RFC8032_EMPTY_SIGNATURE, 'the RFC 8032 key as node imports it');
    const ours = signSign1(CONTENT, privateKey);
    const toBeSigned = Buffer.from(COSE_WG_TO_BE_SIGNED, 'hex');
    /* Ed25519 is deterministic: the whole message is known in advance. */
    const expected = Buffer.concat([
      Buffer.from('d28443a10127a054', 'hex'),
      CONTENT,
      Buffer.from('5840', 'hex'),
      crypto.sign(null, toBeSigned, privateKey),
    ]);
    assert.equal(ours.toString('hex'), expected.toString('hex'));
    assert.ok(crypto.verify(null, toBeSigned, publicKey, ours.subarray(ours.length - 64)));
  });

  it('verifies the COSE Working Group Ed25519 Sign1 example (kid in the unprotected header)', () => {
    const { publicKey } = rfc8032Keys();
    const example = Buffer.from(COSE_WG_EDDSA_SIG_01, 'hex');
    const v = verifySign1(example, [{ name: 'rfc8032', kid: '11', publicKey }]);
    assert.equal(v.payload.toString(), 'This is the content.');
    assert.equal(v.kid, '11');
    refused(() => verifySign1(example, [{ name: 'other', kid: '11', publicKey: keyA.publicKey }]), /does not verify/);
  });

  it('interoperates with cose-kit, an independent COSE implementation', async () => {
    const ours = signSign1(payload, keyA.privateKey, 'k1');
    const checked = await coseVerify(ours, keyA.publicKey);
    assert.equal(checked.isValid, true, 'cose-kit verifies our message');
    assert.ok(Buffer.from(checked.decoded.payload).equals(payload));
    assert.equal((await coseVerify(flipped(ours, ours.length - 1), keyA.publicKey)).isValid, false, 'and refuses it altered');

    const kidProtected = (await Sign1.sign({ alg: 'EdDSA', kid: 'k1' }, {}, payload, keyA.privateKey)).encode();
    assert.deepEqual(verifySign1(kidProtected, [anchorA]), { payload, kid: 'k1', anchor: 'ops-a' });
    const kidUnprotected = (await Sign1.sign({ alg: 'EdDSA' }, { kid: 'k2' }, payload, keyB.privateKey)).encode();
    assert.deepEqual(verifySign1(kidUnprotected, [anchorA, anchorB]), { payload, kid: 'k2', anchor: 'ops-b' });
    refused(() => verifySign1(kidUnprotected, [{ ...anchorA, kid: 'k2' }]), /does not verify/);
  });

  it('does not depend on cbor-x tag handlers that other modules register', () => {
    const bytes = signSign1(payload, keyA.privateKey, 'k1');
    /* Importing cose-kit registered its own class for tag 18 with cbor-x, for every decoder in the process. */
    assert.ok(cborxDecode(bytes) instanceof Sign1, 'the shared handler is in place');
    assert.equal(verifySign1(bytes, [anchorA]).anchor, 'ops-a');
  });

  it('refuses any flipped byte in the protected header, the payload or the signature', () => {
    const bytes = signSign1(payload, keyA.privateKey, 'k1');
    const prot = { from: 3, to: 3 + 7 }; /* after d2 84 47 */
    assert.equal(bytes.subarray(prot.from, prot.to).toString('hex'), 'a2012704426b31');
    const body = bytes.indexOf(payload);
    assert.ok(body > prot.to);
    for (let i = prot.from; i < prot.to; i++) refused(() => verifySign1(flipped(bytes, i), [anchorA, { ...anchorB, kid: 'k3' }]), /./);
    for (let i = body; i < body + payload.length; i++) refused(() => verifySign1(flipped(bytes, i), [anchorA]), /^signature does not verify/);
    for (let i = bytes.length - 64; i < bytes.length; i++) refused(() => verifySign1(flipped(bytes, i), [anchorA]), /^signature does not verify/);
    /* A protected-header flip that keeps it well formed and the kid known: only the signature catches it. */
    const kidK0 = bytes.indexOf(Buffer.from('k1')) + 1; /* 'k1' -> 'k0' */
    refused(() => verifySign1(flipped(bytes, kidK0), [anchorA, { name: 'k0-anchor', kid: 'k0', publicKey: keyA.publicKey }]), /does not verify against the trust anchor for kid "k0"/);
  });

  it('refuses a signature by a key that is not a trust anchor', () => {
    const bytes = signSign1(payload, keyB.privateKey);
    refused(() => verifySign1(bytes, [anchorA]), /^signature does not verify against any trust anchor \(tried ops-a\)/);
  });

  it('picks the anchors by kid, and only those', () => {
    const signedByA = signSign1(payload, keyA.privateKey, 'k2'); /* A's key, B's kid */
    refused(() => verifySign1(signedByA, [anchorA, anchorB]), /does not verify against the trust anchor for kid "k2" \(ops-b\)/);
    refused(() => verifySign1(signSign1(payload, keyA.privateKey, 'k9'), [anchorA, anchorB]), /^unknown kid "k9" \(the trust anchors' kids: "k1", "k2"\)/);
    refused(() => verifySign1(signSign1(payload, keyA.privateKey), []), /no trust anchor/);
  });

  it('names the element that makes a message no COSE_Sign1', () => {
    const prot = plainEncoder.encode(new Map([[1, -8]]));
    const sig = Buffer.alloc(64);
    const tagged = (value: unknown[]) => Buffer.concat([Buffer.from([0xd2]), plainEncoder.encode(value)]);
    refused(() => verifySign1(tagged([prot, new Map(), payload]), [anchorA]), /not a COSE_Sign1 structure: not an array of 4/);
    refused(() => verifySign1(tagged(['x', new Map(), payload, sig]), [anchorA]), /element 0, the protected header, is not a byte string/);
    refused(() => verifySign1(tagged([Buffer.from([0x01]), new Map(), payload, sig]), [anchorA]), /element 0, the protected header, does not hold a map/);
    refused(() => verifySign1(tagged([prot, [], payload, sig]), [anchorA]), /element 1, the unprotected header, is not a map/);
    refused(() => verifySign1(tagged([prot, new Map(), 'text', sig]), [anchorA]), /element 2, the payload, is not a byte string/);
    refused(() => verifySign1(tagged([prot, new Map(), payload, 64]), [anchorA]), /element 3, the signature, is not a byte string/);
    refused(() => verifySign1(tagged([prot, new Map(), null, sig]), [anchorA]), /^detached payload unsupported/);
    refused(() => verifySign1(Buffer.concat([Buffer.from([0xd1]), plainEncoder.encode([prot, new Map(), payload, sig])]), [anchorA]), /tag 17, where COSE_Sign1 is tag 18/);
    refused(() => verifySign1(signSign1(payload, keyA.privateKey).subarray(0, 20), [anchorA]), /not CBOR: .* runs past the end/);
    refused(() => verifySign1(tagged([prot, new Map([[4, Buffer.from('k1')]]), payload, sig]), [anchorA]), /does not verify/);
    const kidTwice = plainEncoder.encode(new Map<number, unknown>([[1, -8], [4, Buffer.from('k1')]]));
    refused(() => verifySign1(tagged([kidTwice, new Map([[4, Buffer.from('k1')]]), payload, sig]), [anchorA]), /kid is in both/);
  });

  it('accepts the decoded forms: an untagged array, or a cbor-x Tag', () => {
    const bytes = signSign1(payload, keyA.privateKey, 'k1');
    assert.equal(verifySign1(bytes.subarray(1), [anchorA]).anchor, 'ops-a', 'untagged');
    const decoded = cbor.decodeFirstSync(bytes) as { value: unknown[] };
    assert.equal(verifySign1(decoded.value, [anchorA]).anchor, 'ops-a', 'an array from another decoder');
    assert.equal(verifySign1(new Tag(decoded.value, 18), [anchorA]).anchor, 'ops-a', 'a cbor-x Tag');
    refused(() => verifySign1(new Tag(decoded.value, 98), [anchorA]), /tag 98, where COSE_Sign1 is tag 18/);
  });

  it('refuses an alg other than EdDSA, a missing alg, an unsigned alg, and crit', () => {
    const sig = Buffer.alloc(64);
    const msg = (prot: Map<number, unknown>, unprot = new Map<number, unknown>()) =>
      Buffer.concat([Buffer.from([0xd2]), plainEncoder.encode([plainEncoder.encode(prot), unprot, payload, sig])]);
    refused(() => verifySign1(msg(new Map([[1, -7]])), [anchorA]), /^alg is -7, not EdDSA \(-8\)/);
    refused(() => verifySign1(msg(new Map()), [anchorA]), /^alg is missing from the protected header/);
    refused(() => verifySign1(msg(new Map([[4, Buffer.from('k1')]]), new Map([[1, -8]])), [anchorA]), /an alg in the unprotected header is not signed/);
    refused(() => verifySign1(msg(new Map<number, unknown>([[1, -8], [2, [99]]])), [anchorA]), /critical header parameters \[99\] are not understood/);
  });

  it('refuses a signature of the wrong length before verifying', () => {
    const prot = plainEncoder.encode(new Map([[1, -8]]));
    const short = Buffer.concat([Buffer.from([0xd2]), plainEncoder.encode([prot, new Map(), payload, Buffer.alloc(63)])]);
    refused(() => verifySign1(short, [anchorA]), /the signature is 63 bytes; an Ed25519 signature is 64/);
  });

  it('loads trust anchors from PEM text or a file, and generates keys', () => {
    const pair = generateSigningKey();
    assert.match(pair.privateKey, /^-----BEGIN PRIVATE KEY-----/);
    assert.match(pair.publicKey, /^-----BEGIN PUBLIC KEY-----/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vecgate-cose-'));
    try {
      const file = path.join(dir, 'ops.pem');
      fs.writeFileSync(file, pair.publicKey);
      const fromFile = loadTrustAnchor('ops', file, 'k7');
      const fromText = loadTrustAnchor('ops2', pair.privateKey); /* a private key gives its public half */
      const bytes = signSign1(payload, crypto.createPrivateKey(pair.privateKey), 'k7');
      assert.equal(verifySign1(bytes, [fromFile]).anchor, 'ops');
      assert.equal(verifySign1(signSign1(payload, crypto.createPrivateKey(pair.privateKey)), [fromText]).anchor, 'ops2');
      assert.equal(fromText.kid, undefined);

      const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
      assert.throws(() => loadTrustAnchor('ec', ec), { code: 'TRUST_ANCHOR_INVALID', message: /trust anchor ec: a ec key, not Ed25519/ });
      const missing = path.join(dir, 'missing.pem');
      assert.throws(() => loadTrustAnchor('gone', missing), (e: Error) => e.message.includes(missing) && (e as { code?: string }).code === 'TRUST_ANCHOR_INVALID');
      fs.writeFileSync(file, 'not a key');
      assert.throws(() => loadTrustAnchor('junk', file), { code: 'TRUST_ANCHOR_INVALID', message: /not a PEM key/ });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('signs only with an Ed25519 private key', () => {
    assert.throws(() => signSign1(payload, keyA.publicKey), { code: 'SIGNING_KEY_INVALID' });
    assert.throws(() => signSign1(payload, crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey), { code: 'SIGNING_KEY_INVALID' });
  });
});
