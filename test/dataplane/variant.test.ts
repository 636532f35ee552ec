import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { VariantError } from '../../src/errors';
import { PACKAGE_ROOT } from '../../src/dataplane/paths';
import { builtVariants, loadProbe, selectVariant } from '../../src/dataplane/variant';
import { bestVariantFromCpuinfo, withoutVariantPin } from '../helpers';

describe('dataplane/variant', () => {
  beforeEach(withoutVariantPin);
  afterEach(withoutVariantPin);

  it('probes this CPU family and its features', () => {
    const p = loadProbe();
    assert.equal(p.arch, 'x86_64');
    assert.deepEqual(p.variants, ['x86_64-v4', 'x86_64-v3', 'x86_64-v2']);
    assert.equal(p.cpuFeatures.includes('avx512f'), bestVariantFromCpuinfo() === 'x86_64-v4');
  });

  it('lists every built variant, cross builds included', () => {
    const built = builtVariants();
    assert.ok(built.includes('x86_64-v4'));
    assert.ok(!built.some((v) => v.startsWith('probe-')), 'the probe is not a variant');
  });

  it('picks the best built variant the CPU runs', () => {
    const v = selectVariant();
    const best = bestVariantFromCpuinfo();
    assert.equal(v.variant, best);
    assert.equal(v.pinned, false);
    assert.ok(v.libraryPath.endsWith(`native/build/${best}/libvecgate.so`));
  });

  it('honours a pin from VECGATE_VARIANT and from the option, option first', () => {
    process.env.VECGATE_VARIANT = 'x86_64-v3';
    assert.equal(selectVariant().variant, 'x86_64-v3');
    assert.equal(selectVariant({ variant: 'x86_64-v2' }).variant, 'x86_64-v2');
    assert.equal(selectVariant({ variant: 'auto' }).variant, bestVariantFromCpuinfo());
  });

  it('refuses a variant of another CPU family, naming it', () => {
    process.env.VECGATE_VARIANT = 'arm64-v8a';
    assert.throws(
      () => selectVariant(),
      (e: unknown) =>
        e instanceof VariantError &&
        e.code === 'VARIANT_OTHER_FAMILY' &&
        e.variant === 'arm64-v8a' &&
        /arm64-v8a.*not a variant of this x86_64 CPU/.test(e.message),
    );
  });

  it('refuses an unknown variant name', () => {
    assert.throws(
      () => selectVariant({ variant: 'x86_64-v9' }),
      (e: unknown) => e instanceof VariantError && /x86_64-v9/.test(e.message),
    );
  });

  describe('with only some variants built', () => {
    const made: string[] = [];
    after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    /* A build folder holding the real probe and a subset of the real variants. */
    function buildDirWith(variants: string[]): string {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vecgate-build-'));
      made.push(dir);
      const real = path.join(PACKAGE_ROOT, 'native', 'build');
      for (const name of ['probe-x86_64', ...variants]) fs.symlinkSync(path.join(real, name), path.join(dir, name));
      return dir;
    }

    it('refuses a variant the CPU runs but that is not built, listing what is', () => {
      process.env.VECGATE_NATIVE_BUILD = buildDirWith(['x86_64-v2']);
      assert.throws(
        () => selectVariant({ variant: 'x86_64-v3' }),
        (e: unknown) =>
          e instanceof VariantError &&
          e.code === 'VARIANT_NOT_BUILT' &&
          /x86_64-v3: not built \(built: x86_64-v2\)/.test(e.message),
      );
    });

    it('falls back to the best variant that is built', () => {
      process.env.VECGATE_NATIVE_BUILD = buildDirWith(['x86_64-v2', 'arm64-v8a']);
      const v = selectVariant();
      assert.equal(v.variant, 'x86_64-v2');
      assert.deepEqual(v.built, ['arm64-v8a', 'x86_64-v2']);
    });

    it('says so when nothing usable is built', () => {
      process.env.VECGATE_NATIVE_BUILD = buildDirWith(['arm64-v8a']);
      assert.throws(() => selectVariant(), { code: 'VARIANT_NONE' });
    });
  });
});
