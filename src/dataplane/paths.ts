import * as path from 'node:path';

import { VecgateError } from '../errors';

/* Where `make -C native all` puts its outputs, relative to the package root.
 * Compiled code lives in dist/src/dataplane, so the root is three levels up. */
export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..', '..');

export function nativeBuildDir(): string {
  return process.env.VECGATE_NATIVE_BUILD ?? path.join(PACKAGE_ROOT, 'native', 'build');
}

/* The probe and variant names use these family names, not Node's. */
const NODE_TO_FAMILY: Readonly<Record<string, string>> = {
  x64: 'x86_64',
  arm64: 'arm64',
  ppc64: 'ppc64le',
};

export function cpuFamily(nodeArch: string = process.arch): string {
  const family = NODE_TO_FAMILY[nodeArch];
  if (!family) throw new VecgateError('ARCH_UNSUPPORTED', `no dataplane build for architecture ${nodeArch}`);
  return family;
}

export function probeLibraryPath(family = cpuFamily()): string {
  return path.join(nativeBuildDir(), `probe-${family}`, 'libvecgate-probe.so');
}

export function variantLibraryPath(variant: string): string {
  return path.join(nativeBuildDir(), variant, 'libvecgate.so');
}
