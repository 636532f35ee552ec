/* TLS material for mqtts://, from PEM files. */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { VecgateError } from '../errors';
import type { LinkTls } from './mqtt';

/* The board's (or the command line's) TLS files, read once; paths relative to `base`. */
export function readTls(t: { ca?: string; cert?: string; key?: string }, base: string): LinkTls | undefined {
  const read = (file: string | undefined, what: string) => {
    if (file === undefined) return undefined;
    const p = path.resolve(base, file);
    try {
      return fs.readFileSync(p);
    } catch (e) {
      throw new VecgateError('TLS_FILE', `TLS ${what} ${p}: ${(e as Error).message}`);
    }
  };
  if (!t.ca && !t.cert && !t.key) return undefined;
  return { ca: read(t.ca, 'CA'), cert: read(t.cert, 'certificate'), key: read(t.key, 'key') };
}
