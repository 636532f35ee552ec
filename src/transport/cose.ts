/* COSE_Sign1 with Ed25519 (RFC 9052 section 4.2, alg EdDSA -8): how a
 * document is signed for, and checked by, the devices. The protected header
 * carries the alg and, when given, the kid; the payload travels inside the
 * message (a detached payload is refused); external_aad is empty. */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { Tag } from 'cbor-x';

import { SignatureError, VecgateError } from '../errors';
import { CborError, decodeTagged, plainEncoder } from './cbor';

export const COSE_SIGN1_TAG = 18;
export const ALG_EDDSA = -8;
const HEADER_ALG = 1;
const HEADER_CRIT = 2;
const HEADER_KID = 4;
const ED25519_SIGNATURE_BYTES = 64;

/* A key the device trusts to sign documents; `kid`, when set, is the key
 * id that messages signed with it carry. */
export interface TrustAnchor {
  name: string;
  kid?: string;
  publicKey: crypto.KeyObject;
}

export interface VerifiedSign1 {
  payload: Buffer;
  kid?: string;
  anchor: string; /* the name of the trust anchor whose key verified it */
}

/* A COSE_Sign1 message taken apart, not yet verified. */
export interface Sign1 {
  protectedBytes: Buffer; /* the protected header as serialized: signed as is */
  kid?: Buffer;
  payload: Buffer;
  signature: Buffer;
}

/* A tagged COSE_Sign1 over `payload`, signed with an Ed25519 private key. */
export function signSign1(payload: Uint8Array, key: crypto.KeyObject, kid?: string): Buffer {
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519')
    throw new VecgateError('SIGNING_KEY_INVALID', `signing needs an Ed25519 private key, not a ${key.asymmetricKeyType} ${key.type} key`);
  const header = new Map<number, unknown>([[HEADER_ALG, ALG_EDDSA]]);
  if (kid !== undefined) header.set(HEADER_KID, Buffer.from(kid, 'utf8'));
  const protectedBytes = plainEncoder.encode(header);
  const signature = crypto.sign(null, sigStructure(protectedBytes, payload), key);
  return plainEncoder.encode(new Tag([protectedBytes, new Map(), asBuffer(payload), signature], COSE_SIGN1_TAG));
}

/* Sig_structure for COSE_Sign1 (RFC 9052 section 4.4): the bytes signed. */
function sigStructure(protectedBytes: Uint8Array, payload: Uint8Array): Buffer {
  return plainEncoder.encode(['Signature1', asBuffer(protectedBytes), Buffer.alloc(0), asBuffer(payload)]);
}

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function notSign1(what: string): SignatureError {
  return new SignatureError(`not a COSE_Sign1 structure: ${what}`);
}

/* A header map's value for an integer label; a header decoded elsewhere may
 * be an object with the label as its key. */
function label(h: Map<unknown, unknown> | Record<string, unknown>, n: number): unknown {
  return h instanceof Map ? h.get(n) : h[String(n)];
}

function isHeaderMap(v: unknown): v is Map<unknown, unknown> | Record<string, unknown> {
  if (v instanceof Map) return true;
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

function protectedHeader(bytes: Uint8Array): Map<unknown, unknown> {
  if (bytes.length === 0) return new Map(); /* a zero-length string is the empty header */
  let d: { tag?: number; value: unknown };
  try {
    d = decodeTagged(bytes, 'protected header');
  } catch (e) {
    if (e instanceof CborError) throw notSign1(`element 0, the protected header, does not hold CBOR (${e.reason})`);
    throw e;
  }
  if (d.tag !== undefined || !(d.value instanceof Map)) throw notSign1('element 0, the protected header, does not hold a map');
  return d.value;
}

/* Takes a COSE_Sign1 apart and checks all but the signature: its shape, its
 * alg (EdDSA, in the protected header), crit, kid. Takes the message's bytes
 * (tagged or not) or a value a CBOR decoder gave (a cbor-x Tag, or the array). */
export function parseSign1(message: unknown): Sign1 {
  let value = message;
  if (message instanceof Uint8Array) {
    let d: { tag?: number; value: unknown };
    try {
      d = decodeTagged(message);
    } catch (e) {
      if (e instanceof CborError) throw notSign1(e.reason);
      throw e;
    }
    if (d.tag !== undefined && d.tag !== COSE_SIGN1_TAG) throw notSign1(`tag ${d.tag}, where COSE_Sign1 is tag 18`);
    value = d.value;
  } else if (message instanceof Tag) {
    if (message.tag !== COSE_SIGN1_TAG) throw notSign1(`tag ${message.tag}, where COSE_Sign1 is tag 18`);
    value = message.value;
  }
  if (!Array.isArray(value) || value.length !== 4)
    throw notSign1('not an array of 4 elements (protected header, unprotected header, payload, signature)');
  const [prot, unprot, payload, signature] = value as unknown[];
  if (!(prot instanceof Uint8Array)) throw notSign1('element 0, the protected header, is not a byte string');
  const p = protectedHeader(prot);
  if (!isHeaderMap(unprot)) throw notSign1('element 1, the unprotected header, is not a map');
  if (payload === null || payload === undefined)
    throw new SignatureError('detached payload unsupported: element 2 is nil; the document must travel inside the message');
  if (!(payload instanceof Uint8Array)) throw notSign1('element 2, the payload, is not a byte string');
  if (!(signature instanceof Uint8Array)) throw notSign1('element 3, the signature, is not a byte string');

  const alg = p.get(HEADER_ALG);
  if (alg !== ALG_EDDSA) {
    /* An alg outside the protected header is not signed, so not trusted. */
    const where = alg === undefined && label(unprot, HEADER_ALG) !== undefined ? ' (an alg in the unprotected header is not signed)' : '';
    throw new SignatureError(`alg is ${alg === undefined ? 'missing from the protected header' : String(alg)}, not EdDSA (-8)${where}`);
  }
  const crit = p.get(HEADER_CRIT);
  if (crit !== undefined) throw new SignatureError(`critical header parameters ${JSON.stringify(crit)} are not understood`);
  const pkid = p.get(HEADER_KID);
  const ukid = label(unprot, HEADER_KID);
  if (pkid !== undefined && ukid !== undefined) throw notSign1('kid is in both the protected and the unprotected header');
  const kid = pkid ?? ukid;
  if (kid !== undefined && !(kid instanceof Uint8Array)) throw notSign1('kid is not a byte string');
  return {
    protectedBytes: asBuffer(prot),
    ...(kid !== undefined ? { kid: asBuffer(kid) } : {}),
    payload: asBuffer(payload),
    signature: asBuffer(signature),
  };
}

function showKid(kid: Buffer): string {
  const text = kid.toString('utf8');
  return Buffer.from(text, 'utf8').equals(kid) ? JSON.stringify(text) : `h'${kid.toString('hex')}'`;
}

/* Verifies a COSE_Sign1 against the trust anchors: the anchors with the
 * message's kid when it has one (and none other), else each in turn.
 * Throws SignatureError saying which check failed. */
export function verifySign1(message: unknown, anchors: readonly TrustAnchor[]): VerifiedSign1 {
  const m = parseSign1(message);
  if (!anchors.length) throw new SignatureError('no trust anchor is configured');
  let candidates = anchors;
  if (m.kid) {
    candidates = anchors.filter((a) => a.kid !== undefined && Buffer.from(a.kid, 'utf8').equals(m.kid!));
    if (!candidates.length) {
      const known = anchors.filter((a) => a.kid !== undefined).map((a) => JSON.stringify(a.kid));
      throw new SignatureError(`unknown kid ${showKid(m.kid)} (the trust anchors' kids: ${known.join(', ') || 'none'})`);
    }
  }
  if (m.signature.length !== ED25519_SIGNATURE_BYTES)
    throw new SignatureError(`the signature is ${m.signature.length} bytes; an Ed25519 signature is ${ED25519_SIGNATURE_BYTES}`);
  const signed = sigStructure(m.protectedBytes, m.payload);
  for (const a of candidates) {
    if (a.publicKey.asymmetricKeyType !== 'ed25519')
      throw new SignatureError(`trust anchor ${a.name} is a ${a.publicKey.asymmetricKeyType} key, not Ed25519`);
    if (crypto.verify(null, signed, a.publicKey, m.signature)) {
      return { payload: m.payload, ...(a.kid !== undefined && m.kid ? { kid: a.kid } : {}), anchor: a.name };
    }
  }
  const tried = candidates.map((a) => a.name).join(', ');
  throw new SignatureError(
    m.kid
      ? `signature does not verify against the trust anchor for kid ${showKid(m.kid)} (${tried})`
      : `signature does not verify against any trust anchor (tried ${tried})`,
  );
}

/* A trust anchor from PEM text or a PEM file: an Ed25519 public key (a
 * private key's PEM gives its public half). */
export function loadTrustAnchor(name: string, pemOrPath: string, kid?: string): TrustAnchor {
  const inline = pemOrPath.includes('-----BEGIN');
  const where = inline ? `trust anchor ${name}` : `trust anchor ${name} (${pemOrPath})`;
  let pem = pemOrPath;
  if (!inline) {
    try {
      pem = fs.readFileSync(pemOrPath, 'utf8');
    } catch (e) {
      throw new VecgateError('TRUST_ANCHOR_INVALID', `${where}: cannot read: ${(e as Error).message}`);
    }
  }
  let publicKey: crypto.KeyObject;
  try {
    publicKey = crypto.createPublicKey(pem);
  } catch (e) {
    throw new VecgateError('TRUST_ANCHOR_INVALID', `${where}: not a PEM key: ${(e as Error).message}`);
  }
  if (publicKey.asymmetricKeyType !== 'ed25519')
    throw new VecgateError('TRUST_ANCHOR_INVALID', `${where}: a ${publicKey.asymmetricKeyType} key, not Ed25519`);
  return { name, ...(kid !== undefined ? { kid } : {}), publicKey };
}

/* A board's trust anchors (agent.trustAnchors: PEM files, relative to `base`). */
export function loadBoardAnchors(files: readonly string[], base: string): TrustAnchor[] {
  return files.map((file, i) => loadTrustAnchor(`anchor${i}`, path.resolve(base, file)));
}

/* A new Ed25519 key pair as PEM (PKCS#8 private, SPKI public). */
export function generateSigningKey(): { privateKey: string; publicKey: string } {
  return crypto.generateKeyPairSync('ed25519', {
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
}
