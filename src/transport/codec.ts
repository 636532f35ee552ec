/* Documents as they arrive over MQTT (CBOR, signed with COSE_Sign1 or not)
 * and as an operator writes them (JSON, YAML or CBOR files). Every refusal is
 * a ConfigError with {path, reason}, reported like a validation error: the
 * message itself is 'document', its signature 'signature', a signed message's
 * content 'payload', and a field inside the document is named as the models
 * name it (version, items["route/a"]). */
import * as fs from 'node:fs';
import * as path from 'node:path';

import type * as Yaml from 'yaml';

import { SignatureError, VecgateError } from '../errors';
import { ConfigError } from '../models/check';
import { CborError, checkWellFormed, decodeCbor, decodeScanned, leadingTag, plainValue } from './cbor';
import { COSE_SIGN1_TAG, parseSign1, TrustAnchor, verifySign1 } from './cose';
import { jsonErrorOffset, lineColumn } from './json-position';

export { decodeCbor, encodeCbor } from './cbor';

export const DEFAULT_MAX_DOCUMENT_BYTES = 1024 * 1024;

export interface DecodeDocumentOptions {
  maxBytes?: number; /* DEFAULT_MAX_DOCUMENT_BYTES when left out */
  anchors: readonly TrustAnchor[];
  allowUnsigned: boolean;
}

export interface DecodedDocument {
  document: unknown; /* plain data, as JSON.parse would give: for validateDocument */
  signed: boolean;
  kid?: string;
  anchor?: string; /* the trust anchor that verified it */
}

function refuse(path: string, reason: string): never {
  throw new ConfigError([{ path, reason }]);
}

/* A CborError becomes the ConfigError for its path. */
function asConfigError<T>(f: () => T, file?: string): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof CborError) refuse(e.path, file ? `${e.reason} (in ${file})` : e.reason);
    throw e;
  }
}

function plainCbor(bytes: Uint8Array, root: string, file?: string): unknown {
  return asConfigError(() => decodeCbor(bytes, root), file);
}

/* A document received as one MQTT message. The size is checked before any
 * byte is read, the CBOR's well-formedness before anything is decoded; a
 * COSE_Sign1 (tag 18) is verified before its payload is decoded, and an
 * unsigned document is refused undecoded when a signature is required. */
export function decodeDocument(bytes: Uint8Array, opts: DecodeDocumentOptions): DecodedDocument {
  const max = opts.maxBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  if (bytes.length > max) refuse('document', `${bytes.length} bytes, over the limit of ${max} bytes`);
  const tag = leadingTag(bytes);
  /* One scan of the whole message: plain data when it is not tagged. */
  try {
    checkWellFormed(bytes, tag === undefined, 'document');
  } catch (e) {
    if (!(e instanceof CborError)) throw e;
    /* The likeliest mistake: JSON text published as it is. */
    const json = bytes[0] === 0x7b || bytes[0] === 0x5b;
    refuse(e.path, json ? `${e.reason} (it looks like JSON text: a document is published as CBOR)` : e.reason);
  }
  if (tag === COSE_SIGN1_TAG) {
    let v;
    try {
      v = verifySign1(bytes, opts.anchors);
    } catch (e) {
      if (e instanceof SignatureError) refuse('signature', e.reason);
      throw e;
    }
    const document = plainCbor(v.payload, 'payload');
    return { document, signed: true, ...(v.kid !== undefined ? { kid: v.kid } : {}), anchor: v.anchor };
  }
  if (tag !== undefined) refuse('document', `tag ${tag} at byte 0: a document is plain CBOR or a COSE_Sign1 (tag 18)`);
  if (!opts.allowUnsigned) refuse('signature', 'unsigned document, and this device requires a signature');
  return { document: asConfigError(() => plainValue(decodeScanned(bytes, 'document'), 'document')), signed: false };
}

export type DocumentFormat = 'json' | 'yaml' | 'cbor';

/* By extension; otherwise CBOR when the first byte cannot start UTF-8 text
 * (a CBOR map, array or tag), else YAML (which reads JSON too). */
export function documentFormat(file: string, bytes: Uint8Array): DocumentFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  if (ext === '.cbor') return 'cbor';
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  return bytes.length > 0 && bytes[0]! >= 0x80 && !bom ? 'cbor' : 'yaml';
}

/* A document file for `config push` and the console. A CBOR file that is
 * already a COSE_Sign1 comes back with its bytes, to be published untouched;
 * its payload is decoded for local validation but not verified here (the
 * devices hold the trust anchors). Errors name the file and the line, or the
 * byte. */
export function readDocumentFile(file: string): { document: unknown; bytes?: Buffer } {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new VecgateError('DOCUMENT_UNREADABLE', `cannot read ${file}: ${(e as Error).message}`);
  }
  const format = documentFormat(file, bytes);
  if (format === 'cbor') return readCborFile(file, bytes);
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  return { document: format === 'json' ? parseJson(file, text) : parseYaml(file, text) };
}

function readCborFile(file: string, bytes: Buffer): { document: unknown; bytes?: Buffer } {
  if (leadingTag(bytes) !== COSE_SIGN1_TAG) return { document: plainCbor(bytes, 'document', file) };
  let payload: Buffer;
  try {
    payload = parseSign1(bytes).payload;
  } catch (e) {
    if (e instanceof SignatureError) refuse('signature', `${e.reason} (in ${file})`);
    throw e;
  }
  return { document: plainCbor(payload, 'payload', file), bytes };
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    let where = '';
    try {
      const { line, column } = lineColumn(text, jsonErrorOffset(text));
      where = `, line ${line}, column ${column}`;
    } catch {
      /* too deep to locate: the message alone */
    }
    /* V8 quotes the text around the error, newlines and all: keep the reason on one line. */
    const message = (e as Error).message.replace(/\n/g, '\\n');
    return refuse('document', `not JSON: ${message} (in ${file}${where})`);
  }
}

function parseYaml(file: string, text: string): unknown {
  /* Warnings too (an unknown tag, say): a config file should mean one thing. */
  /* yaml is loaded only for YAML files: it costs ~0.1 s at start-up. */
  const { LineCounter, parseDocument } = require('yaml') as typeof Yaml;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) {
    const pos = lines.linePos(problem.pos[0]);
    refuse('document', `not YAML: ${problem.message} (in ${file}, line ${pos.line}, column ${pos.col})`);
  }
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (e) {
    refuse('document', `not YAML: ${(e as Error).message} (in ${file})`);
  }
  return asConfigError(() => plainValue(value, 'document'), file);
}
