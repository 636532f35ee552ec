/* The box's last applied configuration on disk, so it boots into it before
 * any broker is reached. Written atomically (a temporary file, fsync,
 * rename, fsync of the directory): a power cut leaves the old file or the
 * new one, never half of either.
 *
 * The file is two JSON lines: a header (format, agent version, sha256 of
 * the second line, sources, commit-confirm window) and the document as the
 * validators returned it. JSON, because V8 parses it natively, far faster
 * than CBOR decodes in JavaScript; validated values, because validation is
 * idempotent, so the document is still one any agent can check, while the
 * agent that wrote it (same version, same digest) can skip checking 10,000
 * routes again on its way to forwarding after a power cut. */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { writeFileAtomic } from '../atomic-file';
import { VecgateError } from '../errors';
import { ConfigDocument, ValidDocument } from '../models/document';
import { Registry } from '../scheduler/registry';

/* Where one layer of the applied document came from. */
export interface SourceSummary {
  source: string; /* 'group/<name>' or 'device' */
  version: number;
  sha256: string; /* of the bytes received (signed or not) */
}

export interface AppliedConfig {
  document: ConfigDocument; /* the merged document, its items as validated */
  sources: SourceSummary[];
}

export interface SavedConfig extends AppliedConfig {
  savedAt: string;
  /* Set while a commit-confirm window is open: what to go back to. */
  confirm?: { seconds: number; appliedAt: string; previous: AppliedConfig | null };
}

interface Header {
  format: number;
  agentVersion: string;
  sha256: string; /* of the document line */
  savedAt: string;
  sources: SourceSummary[];
  confirm?: SavedConfig['confirm'];
}

const FORMAT = 2;
const FILE = 'config.json';

/* A validated document in the shape of a raw one (what is persisted). */
export function rawDocument(valid: ValidDocument): ConfigDocument {
  const items: Record<string, unknown> = {};
  for (const [key, { value }] of valid.items) items[key] = value;
  return { version: valid.version, items };
}

/* The reverse, for a document this agent validated itself: the kind is the
 * key's first segment, and the value is taken as it is (parts shared). */
export function trustedDocument(doc: ConfigDocument, registry: Registry): ValidDocument {
  const items: ValidDocument['items'] = new Map();
  for (const [key, value] of Object.entries(doc.items)) {
    const kind = key.slice(0, key.indexOf('/'));
    const share = registry.kind(kind)?.share;
    items.set(key, { kind, value: share ? share(value) : value });
  }
  return { version: doc.version, items };
}

export class ConfigStore {
  readonly file: string;

  constructor(
    readonly dir: string,
    private readonly agentVersion = '',
  ) {
    this.file = path.join(dir, FILE);
  }

  /* undefined when nothing was saved yet; throws STORE_CORRUPT naming the
   * file. `trusted`: written by this agent version and intact, so its items
   * need no validation. */
  load(): { saved: SavedConfig; trusted: boolean } | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new VecgateError('STORE_READ', `cannot read ${this.file}: ${(e as Error).message}`);
    }
    const nl = text.indexOf('\n');
    let header: Header;
    let document: ConfigDocument;
    const body = text.slice(nl + 1).replace(/\n$/, '');
    try {
      header = JSON.parse(text.slice(0, nl)) as Header;
      document = JSON.parse(body) as ConfigDocument;
    } catch (e) {
      throw new VecgateError('STORE_CORRUPT', `${this.file} is not a saved configuration: ${(e as Error).message}`);
    }
    if (nl < 0 || header?.format !== FORMAT || typeof document?.items !== 'object') {
      throw new VecgateError('STORE_CORRUPT', `${this.file}: not a saved configuration of format ${FORMAT}`);
    }
    const intact = createHash('sha256').update(body).digest('hex') === header.sha256;
    return {
      saved: { document, sources: header.sources ?? [], savedAt: header.savedAt, ...(header.confirm ? { confirm: header.confirm } : {}) },
      trusted: intact && header.agentVersion === this.agentVersion,
    };
  }

  save(saved: SavedConfig): void {
    const body = JSON.stringify(saved.document);
    const header: Header = {
      format: FORMAT,
      agentVersion: this.agentVersion,
      sha256: createHash('sha256').update(body).digest('hex'),
      savedAt: saved.savedAt,
      sources: saved.sources,
      ...(saved.confirm ? { confirm: saved.confirm } : {}),
    };
    writeFileAtomic(this.file, `${JSON.stringify(header)}\n${body}\n`);
  }
}
