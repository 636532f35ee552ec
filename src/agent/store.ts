/* The box's last applied configuration on disk, so it boots into it before
 * any broker is reached. Written atomically (a temporary file, fsync, rename,
 * fsync of the directory): a power cut leaves the old file or the new one,
 * never half of either. */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { VecgateError } from '../errors';
import { ConfigDocument } from '../models/document';
import { decodeCbor, encodeCbor } from '../transport/codec';

/* Where one layer of the applied document came from. */
export interface SourceSummary {
  source: string; /* 'group/<name>' or 'device' */
  version: number;
  sha256: string; /* of the bytes received (signed or not) */
}

export interface AppliedConfig {
  document: ConfigDocument; /* the merged document, as applied */
  sources: SourceSummary[];
}

export interface SavedConfig extends AppliedConfig {
  savedAt: string;
  /* Set while a commit-confirm window is open: what to go back to. */
  confirm?: { seconds: number; appliedAt: string; previous: AppliedConfig | null };
}

const FORMAT = 1;
const FILE = 'config.cbor';

export class ConfigStore {
  readonly file: string;

  constructor(readonly dir: string) {
    this.file = path.join(dir, FILE);
  }

  /* undefined when nothing was saved yet; throws STORE_CORRUPT naming the file. */
  load(): SavedConfig | undefined {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(this.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new VecgateError('STORE_READ', `cannot read ${this.file}: ${(e as Error).message}`);
    }
    let v: { format?: unknown; saved?: SavedConfig };
    try {
      v = decodeCbor(bytes) as typeof v;
    } catch (e) {
      throw new VecgateError('STORE_CORRUPT', `${this.file} is not CBOR: ${(e as Error).message}`);
    }
    if (v?.format !== FORMAT || typeof v.saved?.document !== 'object') {
      throw new VecgateError('STORE_CORRUPT', `${this.file}: not a saved configuration of format ${FORMAT}`);
    }
    return v.saved;
  }

  save(saved: SavedConfig): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const tmp = `${this.file}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeSync(fd, encodeCbor({ format: FORMAT, saved }));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
    const dirFd = fs.openSync(this.dir, 'r');
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
  }
}
