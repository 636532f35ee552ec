/* The image's manifest (manifest.cbor at its root): what it is for, what it
 * holds, and every file's size and sha256, in path order. No timestamps:
 * two builds of one tree give the same bytes. The manifest does not list
 * itself. */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Encoder } from 'cbor-x';

export const MANIFEST = 'manifest.cbor';
export const MANIFEST_FORMAT = 'vecgate-image/1';

export interface FileEntry {
  path: string; /* relative, / separated */
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  size?: number;
  sha256?: Uint8Array;
  target?: string; /* symlink */
}

export interface Manifest {
  format: string;
  board: string;
  arch: string;
  agent: { name: string; version: string };
  node: { package: string; version: string; integrity: string };
  variants: string[];
  libs: string[]; /* bundled shared libraries, in lib/ */
  boards: string[];
  prefix: string; /* where a box mounts the image */
  launcher: string; /* relative to the root */
  unit: string;
  user: string; /* the account the unit and the container run as */
  requires: { glibc: string }; /* of the box's (or container's) OS */
  files: FileEntry[];
}

/* Sorted by byte order of the UTF-8 path, as mksquashfs sorts directories. */
export function walk(root: string): FileEntry[] {
  const out: FileEntry[] = [];
  const visit = (dir: string, rel: string) => {
    const names = fs.readdirSync(dir).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const full = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      if (r === MANIFEST) continue;
      const st = fs.lstatSync(full);
      const mode = st.mode & 0o7777;
      if (st.isSymbolicLink()) out.push({ path: r, type: 'symlink', mode, target: fs.readlinkSync(full) });
      else if (st.isDirectory()) {
        out.push({ path: r, type: 'dir', mode });
        visit(full, r);
      } else {
        const bytes = fs.readFileSync(full);
        out.push({ path: r, type: 'file', mode, size: bytes.length, sha256: createHash('sha256').update(bytes).digest() });
      }
    }
  };
  visit(root, '');
  return out;
}

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });

export function encodeManifest(m: Manifest): Buffer {
  return Buffer.from(encoder.encode(m));
}

export function decodeManifest(bytes: Uint8Array): Manifest {
  return encoder.decode(bytes) as Manifest;
}
