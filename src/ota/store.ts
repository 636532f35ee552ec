/* What the box knows about its updates, in <stateDir>/ota/, each file
 * replaced atomically so a power cut leaves the old or the new:
 *   journal.json  the install under way or last finished (phase, job, slot,
 *                 bytes verified and synced so far, why it failed)
 *   slots.json    what each slot holds (version, security version, sha256)
 *                 and the security floor (the highest committed security
 *                 version: bundles below it are refused)
 *   head.cose     the signed head of the bundle being installed, so a
 *                 resumed download needs only the payload's missing part */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { writeFileAtomic } from '../atomic-file';
import { OtaError, VecgateError } from '../errors';
import type { Slot } from './boot-chooser';
import type { OtaJob } from './job';

export type Phase =
  | 'downloading' /* payload going into the slot; verifiedBytes is on disk */
  | 'written' /* the whole payload is in the slot and read back */
  | 'switched' /* the boot chooser tries the slot at the next boot */
  | 'trying' /* running on the new slot: the health check decides */
  | 'rolling-back' /* the health check failed: back to the old slot at the next boot */
  | 'committed'
  | 'rolled-back'
  | 'failed'; /* refused or broken before the switch: the slots are as they were */

export const FINAL_PHASES: readonly Phase[] = ['committed', 'rolled-back', 'failed'];

export interface BundleSummary {
  name: string;
  version: string;
  securityVersion: number;
  size: number;
  sha256: string; /* of the payload, hex */
  digest: string; /* of the signed head, hex: which bundle */
}

export interface Journal {
  format: 1;
  job: OtaJob;
  phase: Phase;
  slot: Slot; /* the slot being written and tried */
  from: Slot; /* the slot the box ran when the job started */
  bundle?: BundleSummary;
  verifiedBytes: number; /* payload bytes verified and synced to the slot */
  error?: { code: string; reason: string };
  at: string; /* when the phase was entered */
  startedAt: string;
}

export function otherSlot(s: Slot): Slot {
  return s === 'A' ? 'B' : 'A';
}

/* A job's first journal entry: into the slot that is not `booted`. */
export function newJournal(job: OtaJob, booted: Slot, phase: Phase): Journal {
  const now = new Date().toISOString();
  return { format: 1, job, phase, slot: otherSlot(booted), from: booted, verifiedBytes: 0, at: now, startedAt: now };
}

export interface SlotRecord extends BundleSummary {
  installedAt: string;
}

export interface SlotsFile {
  format: 1;
  /* A slot being overwritten has no record: its old image is gone. */
  slots: Partial<Record<Slot, SlotRecord>>;
  securityFloor: number;
}

export class OtaStore {
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = path.join(stateDir, 'ota');
  }

  private file(name: string): string {
    return path.join(this.dir, name);
  }

  private readJson<T>(name: string): T | null {
    let text: string;
    try {
      text = fs.readFileSync(this.file(name), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new VecgateError('OTA_STORE_CORRUPT', `${this.file(name)}: not JSON (${(e as Error).message})`);
    }
  }

  journal(): Journal | null {
    const j = this.readJson<Journal>('journal.json');
    return j && j.format === 1 ? j : null;
  }

  saveJournal(j: Journal): void {
    writeFileAtomic(this.file('journal.json'), JSON.stringify(j, null, 1) + '\n');
  }

  /* Moves the journal to `phase` (and whatever else changes with it). */
  advance(j: Journal, phase: Phase, more: Partial<Journal> = {}): Journal {
    const next: Journal = { ...j, ...more, phase, at: new Date().toISOString() };
    this.saveJournal(next);
    return next;
  }

  slots(): SlotsFile {
    return this.readJson<SlotsFile>('slots.json') ?? { format: 1, slots: {}, securityFloor: 0 };
  }

  saveSlots(s: SlotsFile): void {
    writeFileAtomic(this.file('slots.json'), JSON.stringify(s, null, 1) + '\n');
  }

  setSlot(slot: Slot, record: SlotRecord | null): void {
    const s = this.slots();
    if (record) s.slots[slot] = record;
    else delete s.slots[slot];
    this.saveSlots(s);
  }

  raiseFloor(securityVersion: number): void {
    const s = this.slots();
    if (securityVersion <= s.securityFloor) return;
    s.securityFloor = securityVersion;
    this.saveSlots(s);
  }

  /* One installer at a time: the agent, or `vecgate ota install` beside it.
   * A lock left by a process that died (a power cut, a kill) is taken over. */
  lock(): () => void {
    fs.mkdirSync(this.dir, { recursive: true });
    const file = this.file('install.lock');
    for (;;) {
      try {
        fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
        return () => fs.rmSync(file, { force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const pid = Number(fs.readFileSync(file, 'utf8').trim());
      if (pid > 0 && pid !== process.pid && alive(pid)) throw new OtaError('OTA_BUSY', `another install is under way (process ${pid} holds ${file})`);
      fs.rmSync(file, { force: true });
    }
  }

  head(): Buffer | null {
    try {
      return fs.readFileSync(this.file('head.cose'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  saveHead(bytes: Buffer): void {
    writeFileAtomic(this.file('head.cose'), bytes);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
