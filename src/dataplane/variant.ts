/* Chooses which build of the dataplane library to load.
 *
 * The library is compiled once per CPU variant (x86_64-v4 uses AVX-512 ...).
 * Loading a variant whose instructions the CPU lacks would die with SIGILL
 * on the first vector loop, so we ask the baseline-built probe library first
 * and refuse with words instead. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import koffi from 'koffi';

import { VariantError } from '../errors';
import { cString } from './cstring';
import { nativeBuildDir, probeLibraryPath, variantLibraryPath } from './paths';

export interface VariantInfo {
  variant: string;
  built: string[]; /* every variant built under native/build, any family */
  cpuFeatures: string[];
  arch: string;
  libraryPath: string;
  pinned: boolean;
}

interface Probe {
  arch: string;
  cpuFeatures: string[];
  variants: string[]; /* this family's, best first */
  missing(variant: string): { count: number; detail: string };
}

let probe: Probe | undefined;

export function loadProbe(): Probe {
  if (probe) return probe;
  const file = probeLibraryPath();
  if (!fs.existsSync(file)) {
    throw new VariantError('PROBE_NOT_BUILT', '', `CPU probe library ${file} is not built (run npm run build:native)`);
  }
  const lib = koffi.load(file);
  const words = (s: string) => s.split(' ').filter(Boolean);
  const missingFn = lib.func('int vg_probe_variant_missing(const char *variant, void *buf, size_t size)');
  probe = {
    arch: lib.func('const char *vg_probe_arch(void)')() as string,
    cpuFeatures: words(lib.func('const char *vg_probe_cpu_features(void)')() as string),
    variants: words(lib.func('const char *vg_probe_variants(void)')() as string),
    missing(variant) {
      const buf = Buffer.alloc(1024);
      const count = missingFn(variant, buf, buf.length) as number;
      return { count, detail: cString(buf) };
    },
  };
  return probe;
}

/* Variant names start with their family; other build folders (probe-*,
 * asan, tsan) are not variants. */
const VARIANT_NAME = /^(x86_64|arm64|ppc64le)-/;

/* Variants with a libvecgate.so under native/build, cross builds included. */
export function builtVariants(): string[] {
  const dir = nativeBuildDir();
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((name) => VARIANT_NAME.test(name))
    .filter((name) => fs.existsSync(path.join(dir, name, 'libvecgate.so'))) // follows symlinks
    .sort();
}

/* `auto`, empty or absent means: pick the best. */
function pinnedName(option?: string): string | undefined {
  const name = option ?? process.env.VECGATE_VARIANT;
  return name && name !== 'auto' ? name : undefined;
}

function checkPinned(p: Probe, variant: string, built: string[]): void {
  const { count, detail } = p.missing(variant);
  if (count < 0) {
    throw new VariantError(
      'VARIANT_OTHER_FAMILY',
      variant,
      `cannot load dataplane variant ${variant}: not a variant of this ${p.arch} CPU (its variants: ${p.variants.join(', ')})`,
    );
  }
  if (count > 0) {
    const missing = detail.split(' ').filter(Boolean);
    throw new VariantError(
      'VARIANT_UNSUPPORTED',
      variant,
      `cannot load dataplane variant ${variant}: this CPU lacks ${count} required feature(s): ${detail}`,
      missing,
    );
  }
  if (!built.includes(variant)) {
    throw new VariantError(
      'VARIANT_NOT_BUILT',
      variant,
      `cannot load dataplane variant ${variant}: not built (built: ${built.join(', ') || 'none'})`,
    );
  }
}

export function selectVariant(opts: { variant?: string } = {}): VariantInfo {
  const p = loadProbe();
  const built = builtVariants();
  const pinned = pinnedName(opts.variant);
  if (pinned) checkPinned(p, pinned, built);
  const variant = pinned ?? p.variants.find((v) => built.includes(v) && p.missing(v).count === 0);
  if (!variant) {
    throw new VariantError(
      'VARIANT_NONE',
      '',
      `no built dataplane variant runs on this ${p.arch} CPU (its variants: ${p.variants.join(', ')}; built: ${built.join(', ') || 'none'})`,
    );
  }
  return {
    variant,
    built,
    cpuFeatures: p.cpuFeatures,
    arch: p.arch,
    libraryPath: variantLibraryPath(variant),
    pinned: pinned !== undefined,
  };
}
