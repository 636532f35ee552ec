/* Images built once per test run (mocha loads every file in one process),
 * through the real CLI, with the Node tarballs cached under out/.cache so a
 * run downloads nothing twice. */
import * as assert from 'node:assert/strict';
import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { PACKAGE_ROOT } from '../../src/dataplane/paths';
import type { BuildResult } from '../../src/image/build';
import { CLI, testDir } from '../helpers';

export const EPOCH = 1_700_000_000;
export const CACHE = path.join(PACKAGE_ROOT, 'out', '.cache');

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/* Why image tests cannot run here, or undefined. */
export function imageToolsMissing(): string | undefined {
  const missing = ['mksquashfs', 'unsquashfs', 'npm', 'tar'].filter((c) => !hasCommand(c));
  return missing.length ? `${missing.join(', ')} not installed (squashfs-tools)` : undefined;
}

let outRoot: string | undefined;
const builds = new Map<string, BuildResult>();

/* The environment of a build or of an image's command: nothing of the checkout's. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of ['VECGATE_VARIANT', 'VECGATE_NATIVE_BUILD', 'VECGATE_CPU_HIDE', 'VECGATE_NODE_WRAPPER']) if (!(k in extra)) delete env[k];
  return env;
}

export function imageBuild(args: string[], outDir: string, extra: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, 'image', 'build', ...args, '--out', outDir, '--json'], {
    encoding: 'utf8',
    env: cleanEnv({ SOURCE_DATE_EPOCH: String(EPOCH), VECGATE_IMAGE_CACHE: CACHE, ...extra }),
    timeout: 300_000,
  });
}

export function buildInto(board: string, outDir: string): BuildResult {
  const r = imageBuild(['--board', board], outDir);
  assert.equal(r.status, 0, `image build --board ${board}: ${r.stderr}`);
  return JSON.parse(r.stdout) as BuildResult;
}

export function built(board: string): BuildResult {
  outRoot ??= testDir('images');
  if (!builds.has(board)) builds.set(board, buildInto(board, outRoot));
  return builds.get(board)!;
}

/* The squashfs unpacked with unsquashfs (not the build's own rootfs). */
const unpackedDirs = new Map<string, string>();
export function unpacked(board: string): string {
  if (unpackedDirs.has(board)) return unpackedDirs.get(board)!;
  const b = built(board);
  const dir = path.join(path.dirname(b.dir), `${board}.unpacked`);
  const r = spawnSync('unsquashfs', ['-q', '-no-progress', '-d', dir, b.squashfs], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(fs.existsSync(path.join(dir, 'bin', 'vecgate')));
  unpackedDirs.set(board, dir);
  return dir;
}

/* The image's launcher, through qemu-user when `qemu` is given. */
export function launch(root: string, args: string[], qemu?: string): SpawnSyncReturns<string> {
  const extra: Record<string, string> = qemu ? { VECGATE_NODE_WRAPPER: qemu } : {};
  return spawnSync(path.join(root, 'bin', 'vecgate'), args, { encoding: 'utf8', env: cleanEnv(extra), timeout: 180_000 });
}

export const QEMU = {
  arm64: (cpu: string) => `qemu-aarch64-static -L /usr/aarch64-linux-gnu -cpu ${cpu}`,
  ppc64le: (cpu: string) => `qemu-ppc64le-static -L /usr/powerpc64le-linux-gnu -cpu ${cpu}`,
};

export function qemuMissing(family: 'arm64' | 'ppc64le'): string | undefined {
  const [bin, sysroot] = family === 'arm64' ? ['qemu-aarch64-static', '/usr/aarch64-linux-gnu'] : ['qemu-ppc64le-static', '/usr/powerpc64le-linux-gnu'];
  if (!hasCommand(bin)) return `${bin} not installed (qemu-user-static)`;
  if (!fs.existsSync(path.join(sysroot, 'lib'))) return `${sysroot} missing (libc6-*-cross)`;
  return undefined;
}
