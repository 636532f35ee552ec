/* One telemetry sample: the machine (through systeminformation) and the
 * dataplane's interface and error counters (through the stats segment), as
 * plain data the transport can CBOR-encode as it is: numbers, strings, null,
 * arrays and objects; no undefined, bigint or Date. */
import * as os from 'node:os';

import * as si from 'systeminformation';

import { ErrorCount, InterfaceCounters, readErrors, readInterfaces, readRuntime } from '../dataplane/counters';
import { Dataplane } from '../dataplane/dataplane';
import { componentLogger, createLogger, Logger } from '../log';

export interface MemorySample {
  totalBytes: number;
  usedBytes: number; /* total - available: page cache the kernel can reclaim is not "used" */
  availableBytes: number;
}

export interface DiskUsage {
  mount: string;
  sizeBytes: number;
  usedBytes: number;
}

/* A field is null when its source failed or timed out (logged), or, for the
 * temperature, when the machine has no sensor. */
export interface SystemSample {
  cpuLoadPercent: number | null;
  cpuTemperatureC: number | null;
  memory: MemorySample | null;
  disks: DiskUsage[] | null;
  uptimeSeconds: number | null;
}

export interface DataplaneSample {
  interfaces: InterfaceCounters[];
  errors: ErrorCount[]; /* non-zero counters only */
  /* Packets per non-empty frame over every node since the counters were last
   * cleared: VPP's vector rate, near 1 when idle and growing with load. */
  vectorRate: number;
}

export interface TelemetrySample {
  time: string; /* ISO 8601, when collection began */
  system: SystemSample;
  dataplane: DataplaneSample | null; /* null without a dataplane, or when reading it failed */
}

/* Where each system figure comes from; tests replace one to make it fail or hang. */
export interface SystemSources {
  cpuLoadPercent(): Promise<number>;
  cpuTemperatureC(): Promise<number | null>;
  memory(): Promise<MemorySample>;
  disks(): Promise<DiskUsage[]>;
  uptimeSeconds(): Promise<number>;
}

export interface CollectOptions {
  timeoutMs?: number; /* for the whole sample; a source still running then gives null */
  maxDisks?: number;
  log?: Logger;
  sources?: Partial<SystemSources>;
}

export const COLLECT_DEFAULTS = { timeoutMs: 5000, maxDisks: 8 } as const;

/* Filesystems that hold no storage of their own (or, squashfs, a read-only image that is always full). */
const PSEUDO_FS = new Set(['tmpfs', 'devtmpfs', 'squashfs', 'overlay', 'ramfs', 'proc', 'sysfs', 'cgroup', 'cgroup2']);

/* The storage a person cares about: block-device filesystems and the root,
 * each device once (a bind mount such as /run/netns repeats its device),
 * the root first. */
export function realFilesystems(list: si.Systeminformation.FsSizeData[]): DiskUsage[] {
  const byDevice = new Map<string, si.Systeminformation.FsSizeData>();
  for (const f of list) {
    const isRoot = f.mount === '/';
    if (!isRoot && (!f.fs.startsWith('/') || PSEUDO_FS.has(f.type))) continue;
    if (!(f.size > 0)) continue;
    const seen = byDevice.get(f.fs);
    if (!seen || isRoot || (seen.mount !== '/' && f.mount.length < seen.mount.length)) byDevice.set(f.fs, f);
  }
  return [...byDevice.values()]
    .sort((a, b) => Number(b.mount === '/') - Number(a.mount === '/'))
    .map((f) => ({ mount: f.mount, sizeBytes: f.size, usedBytes: f.used }));
}

const finite = (n: unknown): number | null => (typeof n === 'number' && Number.isFinite(n) ? n : null);
const round2 = (n: number) => Math.round(n * 100) / 100;

/* Module-level functions: their identity is the key that joins a still-running call. */
export const SYSTEMINFORMATION_SOURCES: Readonly<SystemSources> = {
  // The first call measures over 500 ms; later ones over the time since the previous call.
  cpuLoadPercent: async () => round2((await si.currentLoad()).currentLoad),
  // `main` is null (though typed number) on a machine without a sensor.
  cpuTemperatureC: async () => finite((await si.cpuTemperature()).main),
  memory: async () => {
    const m = await si.mem();
    return { totalBytes: m.total, usedBytes: m.total - m.available, availableBytes: m.available };
  },
  disks: async () => realFilesystems(await si.fsSize()),
  // si.time().uptime is os.uptime(), but si.time() first runs date and ls synchronously (25 ms here).
  uptimeSeconds: async () => os.uptime(),
};

/* A source call still running from an earlier sample (df stuck on a dead
 * mount) is joined rather than started again, so stuck children do not pile up. */
const running = new Map<() => Promise<unknown>, Promise<unknown>>();

function call<T>(source: () => Promise<T>): Promise<T> {
  let p = running.get(source) as Promise<T> | undefined;
  if (!p) {
    p = Promise.resolve().then(source);
    running.set(source, p);
    const forget = () => running.delete(source);
    p.then(forget, forget);
  }
  return p;
}

const TIMED_OUT = Symbol('timed out');

let defaultLog: Logger | undefined;

async function collectSystem(sources: SystemSources, timeoutMs: number, log: Logger): Promise<SystemSample> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(resolve, timeoutMs, TIMED_OUT)));
  const settle = async <T>(name: keyof SystemSources, source: () => Promise<T>): Promise<T | null> => {
    try {
      const v = await Promise.race([call(source), deadline]);
      if (v !== TIMED_OUT) return v;
      log.warn({ source: name, timeoutMs }, `telemetry: ${name} timed out after ${timeoutMs} ms`);
    } catch (err) {
      log.warn({ source: name, err }, `telemetry: ${name} failed`);
    }
    return null;
  };
  try {
    const [cpuLoadPercent, cpuTemperatureC, memory, disks, uptimeSeconds] = await Promise.all([
      settle('cpuLoadPercent', sources.cpuLoadPercent),
      settle('cpuTemperatureC', sources.cpuTemperatureC),
      settle('memory', sources.memory),
      settle('disks', sources.disks),
      settle('uptimeSeconds', sources.uptimeSeconds),
    ]);
    return { cpuLoadPercent, cpuTemperatureC, memory, disks, uptimeSeconds };
  } finally {
    clearTimeout(timer); /* a pending deadline would hold the process open */
  }
}

/* One view of the stats segment, read synchronously: the counters are from
 * one instant, and the dataplane cannot be closed in the middle. */
function collectDataplane(dp: Dataplane, log: Logger): DataplaneSample | null {
  try {
    const stats = dp.stats;
    const runtime = readRuntime(stats);
    const packets = runtime.reduce((n, r) => n + r.packets, 0);
    const vectors = runtime.reduce((n, r) => n + r.vectors, 0);
    return {
      interfaces: readInterfaces(stats),
      errors: readErrors(stats),
      vectorRate: vectors > 0 ? round2(packets / vectors) : 0,
    };
  } catch (err) {
    log.warn({ err }, 'telemetry: reading the dataplane counters failed');
    return null;
  }
}

export async function collectTelemetry(dp: Dataplane | undefined, opts: CollectOptions = {}): Promise<TelemetrySample> {
  const log = opts.log ?? (defaultLog ??= componentLogger(createLogger(), 'telemetry'));
  const sources = { ...SYSTEMINFORMATION_SOURCES, ...opts.sources };
  const time = new Date().toISOString();
  const dataplane = dp ? collectDataplane(dp, log) : null;
  const system = await collectSystem(sources, opts.timeoutMs ?? COLLECT_DEFAULTS.timeoutMs, log);
  system.disks = system.disks?.slice(0, opts.maxDisks ?? COLLECT_DEFAULTS.maxDisks) ?? null;
  return { time, system, dataplane };
}
