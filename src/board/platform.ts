/* The board's platform sections: the CPU and its variant policy, the
 * dataplane's worker cores, the OTA slots and boot chooser, and the memory
 * budget. Each is checked on its own; cross-checks live in schema.ts. */
import { array, fail, int, Json, object, oneOf, str } from './check';

/* Variants the native build makes per family (native/Makefile), best first. */
export const VARIANTS: Readonly<Record<string, readonly string[]>> = {
  x86_64: ['x86_64-v4', 'x86_64-v3', 'x86_64-v2'],
  arm64: ['arm64-v8.2-crypto', 'arm64-v8a'],
  ppc64le: ['ppc64le-power9'],
};

export interface CpuSpec {
  model: string | null; /* what the board carries, for people: "Cortex-A72 (BCM2711)" */
  cores: number | null; /* worker cores must be below it */
}

export const BOOT_CHOOSERS = ['uboot-env', 'grub-env', 'file'] as const;
export const FIRMWARES = ['uefi', 'bios', 'u-boot', 'petitboot', 'none'] as const;

export interface OtaSpec {
  bootChooser: (typeof BOOT_CHOOSERS)[number];
  firmware: (typeof FIRMWARES)[number]; /* what starts the boot chooser */
  slots: { A: string; B: string } | null; /* block devices (or files for "file"); null: no OTA */
  tries: number; /* boots of a new slot before falling back */
  env: string | null; /* the chooser's state: U-Boot env device, grubenv path, or a file */
}

export interface MemorySpec {
  budgetMiB: number | null; /* the whole runtime: agent heap and dataplane pools */
}

export const OTA_DEFAULTS: OtaSpec = { bootChooser: 'file', firmware: 'none', slots: null, tries: 3, env: null };

export function cpu(v: unknown): CpuSpec {
  const c = object(v ?? {}, 'cpu', ['model', 'cores']);
  return {
    model: c.model === null ? null : (str(c.model, 'cpu.model', true) ?? null),
    cores: c.cores === null ? null : (int(c.cores, 'cpu.cores', 1, 4096) ?? null),
  };
}

/* "auto" picks the best variant the CPU runs; a name pins it (and the agent
 * refuses to start on a CPU that lacks it rather than run a weaker one). */
export function variantPolicy(v: unknown, arch: string): string {
  const name = str(v, 'dataplane.variant', true) ?? 'auto';
  if (name === 'auto') return name;
  const families = arch === 'any' ? Object.keys(VARIANTS) : [arch];
  const known = families.flatMap((f) => VARIANTS[f] ?? []);
  if (!known.includes(name)) {
    fail('dataplane.variant', `${JSON.stringify(name)} is not a ${arch === 'any' ? '' : arch + ' '}variant (auto or one of ${known.join(', ')})`);
  }
  return name;
}

/* Cores the dataplane's threads are pinned to, one thread per core. */
export function workers(v: unknown, cores: number | null): number[] {
  const list = array(v, 'dataplane.workers', 'core numbers').map((c, i) => int(c, `dataplane.workers[${i}]`, 0, 4095)!);
  list.forEach((c, i) => {
    if (list.indexOf(c) !== i) fail(`dataplane.workers[${i}]`, `core ${c} is listed twice`);
    if (cores !== null && c >= cores) fail(`dataplane.workers[${i}]`, `core ${c} does not exist (cpu.cores is ${cores})`);
  });
  if (list.length > 64) fail('dataplane.workers', 'at most 64 worker cores');
  return list;
}

export function ota(v: unknown): OtaSpec {
  const o = object(v ?? {}, 'ota', ['bootChooser', 'firmware', 'slots', 'tries', 'env']);
  const d = OTA_DEFAULTS;
  let slots: OtaSpec['slots'] = null;
  if (o.slots !== undefined && o.slots !== null) {
    const s = object(o.slots, 'ota.slots', ['A', 'B']) as Json;
    slots = { A: str(s.A, 'ota.slots.A')!, B: str(s.B, 'ota.slots.B')! };
    if (slots.A === slots.B) fail('ota.slots.B', `is the same as ota.slots.A (${slots.A})`);
  }
  const bootChooser = o.bootChooser === undefined ? d.bootChooser : oneOf(o.bootChooser, 'ota.bootChooser', BOOT_CHOOSERS);
  const firmware = o.firmware === undefined ? d.firmware : oneOf(o.firmware, 'ota.firmware', FIRMWARES);
  if (bootChooser === 'uboot-env' && firmware !== 'u-boot') fail('ota.firmware', `must be u-boot for the uboot-env chooser, not ${firmware}`);
  if (bootChooser === 'grub-env' && !['uefi', 'bios', 'petitboot'].includes(firmware)) {
    fail('ota.firmware', `must be uefi, bios or petitboot for the grub-env chooser, not ${firmware}`);
  }
  return {
    bootChooser,
    firmware,
    slots,
    tries: int(o.tries, 'ota.tries', 1, 255) ?? d.tries,
    env: o.env === null ? null : (str(o.env, 'ota.env', true) ?? d.env),
  };
}

export function memory(v: unknown): MemorySpec {
  const m = object(v ?? {}, 'memory', ['budgetMiB']);
  return { budgetMiB: m.budgetMiB === null ? null : (int(m.budgetMiB, 'memory.budgetMiB', 32) ?? null) };
}

/* The dataplane's share of the budget: its buffer pool (2 KiB data, headroom
 * and metadata: 2.5 KiB a buffer) may take at most half, so the agent,
 * Node and the tables keep the rest. */
export const BUFFER_BYTES = 2560;
const DEFAULT_BUFFERS = 16384; /* native/engine/api.c */

export function buffersOf(options: string): number {
  const m = /(?:^|\s)buffers=(\d+)(?:\s|$)/.exec(options);
  return m ? Number(m[1]) : DEFAULT_BUFFERS;
}

export function checkBudget(mem: MemorySpec, options: string): void {
  if (mem.budgetMiB === null) return;
  const buffers = buffersOf(options);
  const poolMiB = (buffers * BUFFER_BYTES) / (1 << 20);
  if (poolMiB > mem.budgetMiB / 2) {
    fail('memory.budgetMiB', `${mem.budgetMiB} MiB cannot hold the buffer pool: buffers=${buffers} take ${poolMiB.toFixed(0)} MiB, more than half the budget`);
  }
}
