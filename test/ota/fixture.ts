/* What the OTA tests share: a signing key and its trust anchor, images and
 * bundles made with the real bundle code, a box's file-backed slots with
 * the file boot chooser, and a real HTTP server serving the bundles. */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { OTA_DEFAULTS } from '../../src/board/platform';
import { BootChooser, openBootChooser, Slot } from '../../src/ota/boot-chooser';
import { createBundle } from '../../src/ota/bundle';
import { OtaStore } from '../../src/ota/store';
import { TrustAnchor } from '../../src/transport/cose';
import { testDir } from '../helpers';
import { BundleServer } from '../../src/ota/serve';

export const BOARD = 'sim';
export const ARCH = 'x86_64';

export interface Keys {
  privateKey: crypto.KeyObject;
  anchor: TrustAnchor;
  privatePem: string;
  publicPem: string;
}

export function makeKeys(name = 'fleet'): Keys {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  return {
    privateKey,
    anchor: { name, publicKey },
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/* An image of `bytes` random bytes (an odd size: the last chunk is short). */
export function makeImage(dir: string, name: string, bytes: number): string {
  const file = path.join(dir, name);
  const fd = fs.openSync(file, 'w');
  const block = 1 << 20;
  for (let off = 0; off < bytes; off += block) fs.writeSync(fd, crypto.randomBytes(Math.min(block, bytes - off)));
  fs.closeSync(fd);
  return file;
}

export interface BundleSpec {
  version: string;
  securityVersion?: number;
  bytes?: number;
  chunkSize?: number;
  boards?: string[];
  arch?: string;
  key?: crypto.KeyObject;
}

export async function makeBundle(dir: string, keys: Keys, spec: BundleSpec): Promise<{ file: string; name: string; image: string; sha256: string }> {
  const name = `vecgate-${spec.version}.vgb`;
  const image = makeImage(dir, `image-${spec.version}.squashfs`, spec.bytes ?? 3 * 1024 * 1024 + 12345);
  await createBundle({
    image,
    out: path.join(dir, name),
    key: spec.key ?? keys.privateKey,
    version: spec.version,
    securityVersion: spec.securityVersion ?? 1,
    arch: spec.arch ?? ARCH,
    boards: spec.boards ?? [BOARD],
    chunkSize: spec.chunkSize ?? 64 * 1024,
  });
  return { file: path.join(dir, name), name, image, sha256: fileSha256(image) };
}

export function fileSha256(file: string, length?: number): string {
  const data = fs.readFileSync(file);
  return crypto.createHash('sha256').update(length === undefined ? data : data.subarray(0, length)).digest('hex');
}

export interface Box {
  dir: string;
  slots: Record<Slot, string>;
  env: string;
  store: OtaStore;
  chooser: BootChooser;
  factorySha256: string;
}

/* A box with a factory image in slot A, slot B empty, nothing installed yet. */
export function makeBox(tries = 3): Box {
  const dir = testDir('ota-box');
  const slots = { A: path.join(dir, 'slot-a'), B: path.join(dir, 'slot-b') };
  makeImage(dir, 'slot-a', 512 * 1024);
  const env = path.join(dir, 'boot-chooser.json');
  const chooser = openBootChooser({ ...OTA_DEFAULTS, bootChooser: 'file', slots, env, tries });
  return { dir, slots, env, store: new OtaStore(path.join(dir, 'state')), chooser, factorySha256: fileSha256(slots.A) };
}

export async function startServer(root: string): Promise<BundleServer> {
  const s = new BundleServer(root);
  await s.listen();
  return s;
}
