/* vecgate image build --board NAME: out/<board>/ gets
 *
 *   rootfs/                     the image tree, unpacked (Dockerfile.arm64 copies it)
 *   vecgate-<board>.squashfs    the image: zstd, 1 MiB blocks, reproducible
 *   manifest.cbor               the image's manifest, also at its root
 *
 * Times come from SOURCE_DATE_EPOCH, else the last commit's time, else 0:
 * two builds of one tree give byte-identical images. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { boardNames, loadBoard } from '../board/load';
import { Board } from '../board/schema';
import { nativeBuildDir, PACKAGE_ROOT } from '../dataplane/paths';
import { VecgateError } from '../errors';
import { encodeManifest, Manifest, MANIFEST, MANIFEST_FORMAT, walk } from './manifest';
import { makeSquashfs } from './squashfs';
import { LAUNCHER, PREFIX, stage, UNIT, USER } from './stage';
import { Family, target, Target } from './targets';

export interface BuildOptions {
  board: string;
  outDir?: string; /* default <package>/out */
  cacheDir?: string; /* default <out>/.cache, or VECGATE_IMAGE_CACHE */
  epoch?: number;
}

export interface BuildResult {
  board: string;
  arch: Family;
  dir: string;
  squashfs: string;
  rootfs: string;
  manifest: string;
  squashfsBytes: number; /* compressed */
  treeBytes: number; /* file bytes in the tree */
  largest: { path: string; size: number }[];
  node: string;
  variants: string[];
  libs: string[];
  epoch: number;
  seconds: number;
  warnings: string[];
}

/* glibc the image's binaries need: Node 20's official builds want 2.28,
 * koffi's ppc64le build 2.34 (peers/README). */
const GLIBC: Readonly<Record<Family, string>> = { x86_64: '2.28', arm64: '2.28', ppc64le: '2.34' };

export function sourceDateEpoch(root = PACKAGE_ROOT): number {
  const env = process.env.SOURCE_DATE_EPOCH;
  if (env !== undefined && env !== '') {
    if (!/^\d+$/.test(env)) throw new VecgateError('IMAGE_INPUT', `SOURCE_DATE_EPOCH=${env} is not a number of seconds`);
    return Number(env);
  }
  const git = spawnSync('git', ['log', '-1', '--format=%ct'], { cwd: root, encoding: 'utf8' });
  return git.status === 0 && /^\d+\s*$/.test(git.stdout) ? Number(git.stdout) : 0;
}

function imageBoard(name: string): Board {
  if (name.includes('/') || name.endsWith('.json')) {
    throw new VecgateError('IMAGE_INPUT', `image build takes a board of this package by name (${boardNames().join(', ')}), not a file: the image carries board/<name>.json`);
  }
  const board = loadBoard(name);
  if (board.arch === 'any') {
    const real = boardNames().filter((n) => loadBoard(n).arch !== 'any');
    throw new VecgateError('IMAGE_INPUT', `board ${name} runs on any architecture: build the image of a board of one (${real.join(', ')})`);
  }
  return board;
}

/* Libraries older than their sources (make -q): packaged, but said, since
 * a box would run code that is not the tree's. */
function staleNatives(t: Target, nativeBuild: string): string[] {
  const native = path.join(PACKAGE_ROOT, 'native');
  if (path.resolve(nativeBuild) !== path.join(native, 'build')) return [];
  const libs = [...t.variants.map((v) => `build/${v}/libvecgate.so`), `build/probe-${t.family}/libvecgate-probe.so`];
  return libs.filter((lib) => spawnSync('make', ['-s', '-q', '--no-print-directory', '-C', native, lib]).status !== 0).map((lib) => `native/${lib} is older than its sources (npm run build:native)`);
}

export function buildImage(opts: BuildOptions): BuildResult {
  const t0 = Date.now();
  const board = imageBoard(opts.board);
  const t = target(board.arch as Family);
  const out = path.resolve(opts.outDir ?? path.join(PACKAGE_ROOT, 'out'));
  const dir = path.join(out, board.name);
  const cacheDir = path.resolve(opts.cacheDir ?? process.env.VECGATE_IMAGE_CACHE ?? path.join(out, '.cache'));
  const epoch = opts.epoch ?? sourceDateEpoch();
  const boards = boardNames().filter((n) => loadBoard(n).arch === board.arch);
  fs.mkdirSync(dir, { recursive: true });
  const rootfs = path.join(dir, 'rootfs');
  const nativeBuild = nativeBuildDir();
  const warnings = staleNatives(t, nativeBuild);
  const { libs } = stage({ board, boards, target: t, packageRoot: PACKAGE_ROOT, nativeBuild, cacheDir }, rootfs);
  const pkg = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  const files = walk(rootfs);
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    board: board.name,
    arch: t.family,
    agent: { name: pkg.name, version: pkg.version },
    node: { ...t.node },
    variants: [...t.variants],
    libs,
    boards,
    prefix: PREFIX,
    launcher: LAUNCHER,
    unit: UNIT,
    user: USER,
    requires: { glibc: GLIBC[t.family] },
    files,
  };
  const bytes = encodeManifest(manifest);
  fs.writeFileSync(path.join(rootfs, MANIFEST), bytes);
  fs.chmodSync(path.join(rootfs, MANIFEST), 0o644);
  fs.writeFileSync(path.join(dir, MANIFEST), bytes);
  const squashfs = path.join(dir, `vecgate-${board.name}.squashfs`);
  makeSquashfs(rootfs, squashfs, epoch);
  const sized = files.filter((f) => f.type === 'file') as { path: string; size: number }[];
  return {
    board: board.name,
    arch: t.family,
    dir,
    squashfs,
    rootfs,
    manifest: path.join(dir, MANIFEST),
    squashfsBytes: fs.statSync(squashfs).size,
    treeBytes: sized.reduce((n, f) => n + f.size, 0) + bytes.length,
    largest: [...sized].sort((a, b) => b.size - a.size).slice(0, 5).map(({ path: p, size }) => ({ path: p, size })),
    node: `${t.node.package}@${t.node.version}`,
    variants: [...t.variants],
    libs,
    epoch,
    seconds: (Date.now() - t0) / 1000,
    warnings,
  };
}
