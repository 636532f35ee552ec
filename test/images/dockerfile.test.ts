/* Dockerfile.arm64, without a Docker engine: parsed, and held against the
 * arm64 image build it packages: every COPY source is a path the build
 * produces, and the base (platform, glibc), user and entrypoint agree with
 * the image's manifest and launcher. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { PACKAGE_ROOT } from '../../src/dataplane/paths';
import { decodeManifest } from '../../src/image/manifest';
import { built, imageToolsMissing } from './fixture';

interface Instruction {
  op: string;
  args: string;
}

/* Instructions with their continuation lines joined, comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const joined = text.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n').replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const m = /^([A-Za-z]+)\s+(.*)$/.exec(l);
      assert.ok(m, `not an instruction: ${l}`);
      return { op: m[1]!.toUpperCase(), args: m[2]!.trim() };
    });
}

/* glibc of each Debian release the base may be. */
const DEBIAN_GLIBC: Record<string, string> = { '11': '2.31', '12': '2.36', '13': '2.41', bullseye: '2.31', bookworm: '2.36', trixie: '2.41' };
const version = (v: string) => v.split('.').map(Number).reduce((a, n) => a * 1000 + n, 0);

describe('images: Dockerfile.arm64', function () {
  this.timeout(600_000);
  const text = fs.readFileSync(path.join(PACKAGE_ROOT, 'Dockerfile.arm64'), 'utf8');
  const ins = parseDockerfile(text);
  const one = (op: string) => {
    const found = ins.filter((i) => i.op === op);
    assert.equal(found.length, 1, `one ${op}`);
    return found[0]!.args;
  };

  it('is a slim Debian base for linux/arm64 with a glibc new enough for the image', function () {
    const from = one('FROM');
    const m = /^--platform=(\S+)\s+debian:(\d+|[a-z]+)-slim$/.exec(from);
    assert.ok(m, `FROM ${from}`);
    assert.equal(m[1], 'linux/arm64');
    assert.ok(DEBIAN_GLIBC[m[2]!], `a known Debian release: ${m[2]}`);
    if (imageToolsMissing()) this.skip(); /* the rest needs the image build */
    const manifest = decodeManifest(fs.readFileSync(built('arm64-neoverse').manifest));
    assert.equal(`linux/${manifest.arch}`, m[1]);
    assert.ok(version(DEBIAN_GLIBC[m[2]!]!) >= version(manifest.requires.glibc), `glibc ${DEBIAN_GLIBC[m[2]!]} >= ${manifest.requires.glibc}`);
  });

  it('copies only what the arm64 image build produces, to where the launcher and unit expect it', function () {
    if (imageToolsMissing()) this.skip(); /* needs the image build */
    const b = built('arm64-neoverse');
    const manifest = decodeManifest(fs.readFileSync(b.manifest));
    const copies = ins.filter((i) => i.op === 'COPY' || i.op === 'ADD');
    assert.ok(copies.length >= 1);
    for (const c of copies) {
      assert.equal(c.op, 'COPY', 'COPY, not ADD');
      const words = c.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const dest = words.pop()!;
      for (const src of words) {
        const m = /^out\/([^/]+)\/(.*)$/.exec(src);
        assert.ok(m, `${src} is under out/<board>/`);
        assert.equal(m[1], manifest.board);
        const produced = path.join(b.dir, m[2]!);
        assert.ok(fs.existsSync(produced), `${src}: the build produces ${produced}`);
        assert.equal(path.resolve(produced), path.resolve(b.rootfs), 'the image tree');
      }
      assert.equal(dest.replace(/\/$/, ''), manifest.prefix, 'to the prefix the unit names');
    }
    const ignore = fs.readFileSync(path.join(PACKAGE_ROOT, '.dockerignore'), 'utf8');
    assert.match(ignore, new RegExp(`^!out/${manifest.board}/rootfs$`, 'm'), '.dockerignore lets the tree into the context');
  });

  it('runs the launcher as the image user, selftest by default', function () {
    if (imageToolsMissing()) this.skip(); /* needs the image build */
    const b = built('arm64-neoverse');
    const manifest = decodeManifest(fs.readFileSync(b.manifest));
    assert.equal(one('USER'), manifest.user);
    assert.match(one('RUN'), new RegExp(`useradd .*\\b${manifest.user}$|useradd .*\\b${manifest.user}\\s`));
    const entrypoint = JSON.parse(one('ENTRYPOINT')) as string[];
    assert.deepEqual(entrypoint, [`${manifest.prefix}/${manifest.launcher}`]);
    const launcher = path.join(b.rootfs, manifest.launcher);
    assert.ok((fs.statSync(launcher).mode & 0o111) !== 0, 'the launcher is executable');
    assert.match(fs.readFileSync(launcher, 'utf8'), /^#!\/bin\/sh\n/, 'a POSIX shell script (debian-slim has /bin/sh, not bash only)');
    assert.deepEqual(JSON.parse(one('CMD')), ['selftest']);
    const unit = fs.readFileSync(path.join(b.rootfs, manifest.unit), 'utf8');
    assert.match(unit, new RegExp(`^User=${manifest.user}$`, 'm'), 'the same user as the systemd unit');
  });
});
