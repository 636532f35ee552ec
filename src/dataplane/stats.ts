/* Reader of the dataplane's stats segment (layout: vecgate.h).
 *
 * The segment never moves for the dataplane's life, so we take one view of
 * it at open and read every counter through that view: no call per counter.
 * The directory is cached and read again only when `epoch` changes; epoch
 * is a seqlock (odd while the dataplane rewrites the directory). */
import * as os from 'node:os';

import { VecgateError } from '../errors';

export const STATS_MAGIC = 0x5354415453474556n;
export const STAT_SCALAR = 1;
export const STAT_COUNTER = 2;
export const STAT_NAME_VECTOR = 3;
const NAME_MAX = 64;
const ENTRY_SIZE = 88; /* vg_stats_entry_t: name[64], 4 x u32, u64 offset */
const NO_NAMES = 0xffffffff;
const LE = os.endianness() === 'LE'; /* integers are native-endian */

export interface StatsEntry {
  name: string;
  type: number;
  nElems: number;
  stride: number;
  namesEntry: number; /* directory index, or -1 */
  offset: number;
}

export class StatsSegment {
  private readonly view: DataView;
  private epoch = -1n;
  private dir: StatsEntry[] = [];
  private byName = new Map<string, StatsEntry>();

  constructor(segment: ArrayBuffer) {
    this.view = new DataView(segment);
    if (this.u64(0) !== STATS_MAGIC) throw new VecgateError('STATS_FORMAT', 'stats segment has a bad magic number');
  }

  get nThreads(): number {
    return Number(this.u64(48));
  }

  get clockHz(): number {
    return Number(this.u64(56));
  }

  entries(): StatsEntry[] {
    this.refresh();
    return this.dir;
  }

  has(name: string): boolean {
    this.refresh();
    return this.byName.has(name);
  }

  scalar(name: string): bigint {
    return this.u64(this.entry(name, STAT_SCALAR).offset);
  }

  /* Per-element totals over every thread. */
  counter(name: string): bigint[] {
    const totals: bigint[] = [];
    for (const row of this.perThread(name)) row.forEach((v, i) => (totals[i] = (totals[i] ?? 0n) + v));
    return totals;
  }

  /* rows[thread][element] */
  perThread(name: string): bigint[][] {
    const e = this.entry(name, STAT_COUNTER);
    const rows: bigint[][] = [];
    for (let t = 0; t < this.nThreads; t++) {
      const row: bigint[] = [];
      for (let i = 0; i < e.nElems; i++) row.push(this.u64(e.offset + 8 * (t * e.stride + i)));
      rows.push(row);
    }
    return rows;
  }

  /* Names of a NAME_VECTOR entry, or the element names of a COUNTER entry. */
  names(name: string): string[] {
    let e = this.entry(name);
    if (e.type === STAT_COUNTER && e.namesEntry >= 0) e = this.dir[e.namesEntry]!;
    if (e.type !== STAT_NAME_VECTOR) throw new VecgateError('STATS_TYPE', `stats entry ${name} has no names`);
    const names: string[] = [];
    for (let i = 0; i < e.nElems; i++) names.push(this.cstr(e.offset + i * NAME_MAX, NAME_MAX));
    return names;
  }

  private entry(name: string, type?: number): StatsEntry {
    this.refresh();
    const e = this.byName.get(name);
    if (!e) throw new VecgateError('STATS_NO_ENTRY', `no stats entry ${name}`);
    if (type !== undefined && e.type !== type) {
      throw new VecgateError('STATS_TYPE', `stats entry ${name} is of type ${e.type}, not ${type}`);
    }
    return e;
  }

  /* Reads the directory again if the dataplane rewrote it; retried if it
   * changed while we were reading. */
  private refresh(): void {
    for (;;) {
      const epoch = this.u64(16);
      if (epoch === this.epoch) return;
      if (epoch & 1n) continue; /* a rewrite is in progress */
      const dir = this.readDirectory();
      if (this.u64(16) !== epoch) continue;
      this.dir = dir;
      this.byName = new Map(dir.map((e) => [e.name, e]));
      this.epoch = epoch;
    }
  }

  private readDirectory(): StatsEntry[] {
    const n = this.view.getUint32(12, LE);
    const base = Number(this.u64(40));
    const dir: StatsEntry[] = [];
    for (let i = 0; i < n; i++) {
      const at = base + i * ENTRY_SIZE;
      const names = this.view.getUint32(at + 76, LE);
      dir.push({
        name: this.cstr(at, NAME_MAX),
        type: this.view.getUint32(at + 64, LE),
        nElems: this.view.getUint32(at + 68, LE),
        stride: this.view.getUint32(at + 72, LE),
        namesEntry: names === NO_NAMES ? -1 : names,
        offset: Number(this.u64(at + 80)),
      });
    }
    return dir;
  }

  private u64(at: number): bigint {
    return this.view.getBigUint64(at, LE);
  }

  private cstr(at: number, max: number): string {
    const bytes = new Uint8Array(this.view.buffer, at, max);
    const end = bytes.indexOf(0);
    return Buffer.from(bytes.subarray(0, end < 0 ? max : end)).toString('utf8');
  }
}
