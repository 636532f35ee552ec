/* The arm64 and ppc64le images, unpacked, run vecgate selftest under
 * qemu-user with their own Node, and the probe picks the variant for the
 * CPU qemu emulates (from AT_HWCAP, not the host's /proc/cpuinfo):
 *
 *   cortex-a72   aes, pmull, sha1, sha2, crc32; no LSE atomics: arm64-v8a
 *   neoverse-n1  adds atomics, asimdrdm, dcpop (v8.2): arm64-v8.2-crypto
 *   power9       ppc64le-power9;  power8: no variant runs */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { readElf } from '../../src/image/elf';
import { imageToolsMissing, launch, QEMU, qemuMissing, unpacked } from './fixture';

const PACKETS = '200'; /* small: qemu runs V8 and the dataplane ~10-50x slower */

function selftest(root: string, qemu: string, args: string[] = []) {
  const r = launch(root, ['selftest', '--json', '--packets', PACKETS, ...args], qemu);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let j: Record<string, unknown> = {};
  try {
    j = JSON.parse(line);
  } catch {
    assert.fail(`not JSON (status ${r.status}): ${r.stdout}${r.stderr}`);
  }
  return { status: r.status, j, stderr: r.stderr };
}

describe('images under qemu-user', function () {
  this.timeout(600_000);

  describe('arm64-neoverse image (arm64)', () => {
    let root: string;
    before(function () {
      const why = imageToolsMissing() ?? qemuMissing('arm64');
      if (why) this.skip(); /* the reason: imageToolsMissing() / qemuMissing() */
      root = unpacked('arm64-neoverse');
    });

    it('cortex-a72 (crypto extensions, no LSE atomics) picks arm64-v8a and passes', () => {
      const { status, j } = selftest(root, QEMU.arm64('cortex-a72'));
      assert.equal(status, 0, String(j.verdict));
      assert.equal(j.variant, 'arm64-v8a');
      assert.equal(j.arch, 'arm64');
      assert.equal(j.nodePath, path.join(root, 'node', 'bin', 'node'));
      assert.match(String(j.verdict), /^selftest PASS: arm64-v8a on arm64, node v20\.20\.2: ip4 200\/200 forwarded, l2 200\/200 bridged, no-route 20\/20 dropped/);
    });

    it("the dataplane's libcrypto came from the image: qemu's sysroot has none", () => {
      assert.ok(readElf(path.join(root, 'app/native/build/arm64-v8a/libvecgate.so')).needed.includes('libcrypto.so.3'), 'the variant links libcrypto');
      assert.ok(!fs.existsSync('/usr/aarch64-linux-gnu/lib/libcrypto.so.3'), 'not in the -L sysroot');
      assert.equal(readElf(path.join(root, 'lib/libcrypto.so.3')).machine, 183, "the image's is arm64");
    });

    it('neoverse-n1 (armv8.2-a with crypto) picks arm64-v8.2-crypto and passes', () => {
      const { status, j } = selftest(root, QEMU.arm64('neoverse-n1'));
      assert.equal(status, 0, String(j.verdict));
      assert.equal(j.variant, 'arm64-v8.2-crypto');
      assert.equal(j.pinned, false);
    });

    it('the rpi4 board pins arm64-v8a and passes on cortex-a72', () => {
      const { status, j } = selftest(root, QEMU.arm64('cortex-a72'), ['--board', 'rpi4']);
      assert.equal(status, 0, String(j.verdict));
      assert.equal(j.variant, 'arm64-v8a');
      assert.equal(j.pinned, true);
      assert.equal(j.board, 'rpi4');
    });

    it('the arm64-neoverse board on a cortex-a72 is refused, naming what the CPU lacks', () => {
      const { status, j } = selftest(root, QEMU.arm64('cortex-a72'), ['--board', 'arm64-neoverse']);
      assert.equal(status, 1);
      assert.equal(j.ok, false);
      const err = j.error as { code: string; message: string };
      assert.equal(err.code, 'VARIANT_UNSUPPORTED');
      assert.match(err.message, /^cannot load dataplane variant arm64-v8.2-crypto: this CPU lacks \d+ required feature\(s\): .*\batomics\b/);
      const line = launch(root, ['selftest', '--board', 'arm64-neoverse', '--packets', PACKETS], QEMU.arm64('cortex-a72'));
      assert.equal(line.status, 1);
      assert.match(line.stdout, /^selftest FAIL: cannot load dataplane variant arm64-v8.2-crypto: this CPU lacks \d+ required feature\(s\): [a-z0-9 ]+\n$/);
    });
  });

  describe('ppc64le-power9 image (ppc64le)', () => {
    let root: string;
    before(function () {
      const why = imageToolsMissing() ?? qemuMissing('ppc64le');
      if (why) this.skip(); /* the reason: imageToolsMissing() / qemuMissing() */
      root = unpacked('ppc64le-power9');
    });

    it('power9 picks ppc64le-power9 and passes with Node 20.11.0', () => {
      const { status, j } = selftest(root, QEMU.ppc64le('power9'), ['--board', 'ppc64le-power9']);
      assert.equal(status, 0, String(j.verdict));
      assert.equal(j.variant, 'ppc64le-power9');
      assert.equal(j.node, 'v20.11.0');
      assert.equal(j.nodePath, path.join(root, 'node', 'bin', 'node'));
    });

    it('power8 has no variant: a FAIL verdict that says so', () => {
      const { status, j } = selftest(root, QEMU.ppc64le('power8'));
      assert.equal(status, 1);
      const err = j.error as { code: string; message: string };
      assert.equal(err.code, 'VARIANT_NONE');
      assert.match(err.message, /^no built dataplane variant runs on this ppc64le CPU/);
    });
  });
});
