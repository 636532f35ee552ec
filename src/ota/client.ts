/* The agent's side of OTA: a job comes in on …/ota/job, the bundle is
 * installed into the slot that is not running (install.ts), the boot
 * chooser is told to try it, the box restarts inside the job's
 * maintenance window, and after that start the health check (dataplane
 * forwarding, broker reached, configuration applied, within the job's
 * deadline) commits the new slot or sends the box back to the old one.
 * Every step is in the journal first, so a power cut at any point ends on
 * a good slot: start() reads the journal and the boot chooser and carries
 * on from where the box is. Progress and outcome go to …/ota/state. */
import { OtaError } from '../errors';
import type { Logger } from '../log';
import type { TrustAnchor } from '../transport/cose';
import { BootChooser, BootState, bootedSlot, Slot } from './boot-chooser';
import { BundleSource, HttpOptions, openSource } from './download';
import { failpoint } from './failpoint';
import { inWindow, OtaJob, parseJob } from './job';
import { installBundle, InstallProgress, RetryPolicy, switchToTrial } from './install';
import { FINAL_PHASES, Journal, newJournal, OtaStore, Phase, SlotsFile } from './store';

export interface HealthStatus {
  forwarding: boolean;
  broker: boolean;
  config: boolean;
  detail?: string; /* why not, in words */
}

export interface OtaStateReport {
  device: string;
  phase: Phase | 'idle';
  job?: string;
  version?: string; /* the bundle's */
  slot?: Slot; /* the slot installed into */
  progress?: { bytes: number; total: number; percent: number };
  error?: { code: string; reason: string };
  rejectedJob?: { reason: string; at: string };
  waitingForWindow?: { cron: string; minutes: number; next: string | null };
  running: { slot: Slot; version: string | null };
  slots: Record<Slot, { version: string; securityVersion: number } | null>;
  securityFloor: number;
  at: string;
}

export interface OtaClientOptions {
  device: string;
  store: OtaStore;
  chooser: BootChooser;
  anchors: readonly TrustAnchor[];
  allowUnsigned: boolean;
  board: string;
  arch: string;
  slots: Record<Slot, string>;
  publish: (report: OtaStateReport) => Promise<unknown> | void;
  /* Restarts the box (the sim restarts the process); resolves if it returns at all. */
  reboot: (reason: string) => Promise<void>;
  health: () => HealthStatus;
  log: Logger;
  http?: HttpOptions;
  retry?: Partial<RetryPolicy>;
  healthPollMs?: number;
  /* Sources other than URLs (tests): the job's url is looked up here first. */
  openSource?: (url: string) => BundleSource;
  env?: NodeJS.ProcessEnv;
}

const PROGRESS_EVERY_MS = 1000;
const JOB_MAX_BYTES = 64 * 1024;

export class OtaClient {
  private journal: Journal | null;
  private state!: BootState;
  private booted!: Slot;
  private abort?: AbortController;
  private running?: Promise<void>;
  private pendingJob?: OtaJob;
  private progress?: InstallProgress;
  private lastProgressAt = 0;
  private rejectedJob?: OtaStateReport['rejectedJob'];
  private windowTask?: { destroy(): unknown; getNextRun(): Date | null };
  private waiting?: OtaJob['window'];
  private healthTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly o: OtaClientOptions) {
    this.journal = o.store.journal();
  }

  get phase(): Phase | 'idle' {
    return this.journal?.phase ?? 'idle';
  }

  /* At every start, before any job: carry on from where the journal and the boot chooser say the box is. */
  async start(): Promise<void> {
    this.state = await this.o.chooser.read();
    this.booted = bootedSlot(this.state, this.o.env);
    const j = this.journal;
    this.o.log.info({ booted: this.booted, primary: this.state.primary, trial: this.state.trial, phase: j?.phase ?? 'idle' }, 'ota: boot state');
    if (!j || FINAL_PHASES.includes(j.phase)) return;
    this.run(() => this.resume(j));
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort(new OtaError('OTA_STOPPED', 'the agent is stopping'));
    clearTimeout(this.healthTimer);
    void this.windowTask?.destroy();
  }

  /* Serializes the steps: one install, switch or check at a time. */
  private run(step: () => Promise<void>): void {
    const prev = this.running ?? Promise.resolve();
    this.running = prev.then(step).catch((e: unknown) => {
      if (this.stopped) return;
      this.o.log.error({ err: (e as Error).message }, 'ota step failed');
    });
  }

  /* Resolves when the steps queued so far are done (tests, shutdown). */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async resume(j: Journal): Promise<void> {
    const st = this.state;
    switch (j.phase) {
      case 'downloading':
        return this.install(j.job, j);
      case 'written':
        /* Cut off between the switch and its journal entry: already on trial. */
        if (this.booted === j.slot && st.trial === j.slot) return this.check(j);
        return this.switchTo(j);
      case 'switched':
      case 'trying':
        if (this.booted === j.slot && st.trial === j.slot) return this.check(j);
        if (this.booted === j.slot && st.primary === j.slot && st.trial === null) return this.committed(j);
        if (st.trial === j.slot) return this.restartIntoTrial(j);
        return this.rolledBack(j, `slot ${j.slot} did not pass its health check within ${st.limit} boot${st.limit === 1 ? '' : 's'}; the firmware went back to slot ${this.booted}`);
      case 'rolling-back':
        if (this.booted !== j.slot) return this.rolledBack(j, j.error?.reason ?? 'the health check failed');
        if (st.trial !== null) await this.o.chooser.cancelTrial();
        return this.restart(`rolling back from slot ${j.slot}`);
    }
  }

  /* A job message (CBOR, COSE_Sign1-signed where the box requires it); an empty payload clears the job. */
  onJob(payload: Buffer): void {
    if (!payload.length) return;
    let job: OtaJob;
    try {
      const { decodeDocument } = require('../transport/codec') as typeof import('../transport/codec');
      const d = decodeDocument(payload, { maxBytes: JOB_MAX_BYTES, anchors: [...this.o.anchors], allowUnsigned: this.o.allowUnsigned });
      job = parseJob(d.document);
    } catch (e) {
      const problems = (e as { problems?: { path: string; reason: string }[] }).problems;
      const reason = problems?.length ? problems.map((p) => `${p.path}: ${p.reason}`).join('; ') : (e as Error).message;
      this.rejectedJob = { reason, at: new Date().toISOString() };
      this.o.log.warn({ reason }, 'ota job refused');
      void this.report();
      return;
    }
    this.rejectedJob = undefined;
    const j = this.journal;
    if (j && j.job.id === job.id) {
      /* Re-delivered (retained, a reconnect): what it asked is done or under way. */
      void this.report();
      return;
    }
    if (j && (j.phase === 'trying' || j.phase === 'rolling-back')) {
      this.o.log.info({ job: job.id, pending: j.job.id }, 'ota job waits: the running update is still being checked');
      this.pendingJob = job;
      return;
    }
    this.abort?.abort(new OtaError('OTA_REPLACED', `replaced by job ${job.id}`));
    this.run(() => this.install(job));
  }

  private async install(job: OtaJob, resume?: Journal): Promise<void> {
    if (this.stopped) return;
    const st = (this.state = await this.o.chooser.read());
    if (st.trial !== null && st.trial === this.booted) {
      /* Running a trial that no journal knows (installed by hand): it must be committed or rolled back first. */
      this.fail(job, new OtaError('OTA_BUSY', `slot ${this.booted} is on trial and not yet committed`));
      return;
    }
    this.abort = new AbortController();
    const signal = this.abort.signal;
    this.progress = undefined;
    this.waiting = undefined;
    void this.windowTask?.destroy();
    /* What the reports show until the installer's journal is in. */
    this.journal = resume ?? newJournal(job, this.booted, 'downloading');
    try {
      const journal = await installBundle(
        {
          store: this.o.store,
          chooser: this.o.chooser,
          anchors: this.o.anchors,
          board: this.o.board,
          arch: this.o.arch,
          slots: this.o.slots,
          booted: this.booted,
          source: this.o.openSource?.(job.url) ?? openSource(job.url, this.o.http),
          job,
          retry: this.o.retry,
          signal,
          log: this.o.log,
          onProgress: (p) => this.onProgress(p),
        },
        resume,
      );
      this.journal = journal;
      this.o.log.info({ slot: journal.slot, version: journal.bundle?.version }, 'ota: bundle written and read back');
      await this.switchTo(journal);
    } catch (e) {
      if (signal.aborted) {
        this.o.log.info({ job: job.id, why: (signal.reason as Error)?.message }, 'ota install stopped');
        return;
      }
      this.fail(job, e, resume);
    }
  }

  private fail(job: OtaJob, e: unknown, prev?: Journal): void {
    const code = (e as OtaError).code ?? 'OTA_ERROR';
    const reason = (e as OtaError).reason ?? (e as Error).message;
    const base = this.o.store.journal() ?? prev;
    const j: Journal = { ...(base && base.job.id === job.id ? base : newJournal(job, this.booted, 'failed')), phase: 'failed', error: { code, reason }, at: new Date().toISOString() };
    this.o.store.saveJournal(j);
    this.journal = j;
    this.o.log.warn({ job: job.id, code, reason }, 'ota install refused; the running slot is untouched');
    void this.report();
  }

  private onProgress(p: InstallProgress): void {
    this.progress = p;
    /* Once per install: the journal the installer wrote, with the bundle's version. */
    if (!this.journal?.bundle) this.journal = this.o.store.journal();
    const now = Date.now();
    if (now - this.lastProgressAt >= PROGRESS_EVERY_MS || p.bytes === p.total) {
      this.lastProgressAt = now;
      void this.report();
    }
  }

  private async switchTo(j: Journal): Promise<void> {
    this.journal = await switchToTrial(this.o.store, this.o.chooser, j);
    this.state = await this.o.chooser.read();
    void this.report();
    await this.restartIntoTrial(this.journal);
  }

  /* The restart that tries the new slot, inside the job's maintenance window. */
  private async restartIntoTrial(j: Journal): Promise<void> {
    const w = j.job.window;
    if (!w || inWindow(w)) return this.restart(`trying slot ${j.slot} (${j.bundle?.version ?? '?'})`);
    const cron = require('node-cron') as typeof import('node-cron');
    this.waiting = w;
    this.windowTask = cron.schedule(w.cron, () => {
      void this.windowTask?.destroy();
      this.waiting = undefined;
      this.run(() => this.restart(`trying slot ${j.slot} (${j.bundle?.version ?? '?'}) in the maintenance window`));
    });
    this.o.log.info({ cron: w.cron, minutes: w.minutes, next: this.windowTask.getNextRun()?.toISOString() }, 'ota: waiting for the maintenance window to restart');
    void this.report();
  }

  private async restart(reason: string): Promise<void> {
    if (this.stopped) return;
    this.o.log.warn({ reason }, 'ota: restarting the box');
    await this.report();
    await this.o.reboot(reason);
  }

  /* Running on the new slot: it has the job's deadline to prove itself. */
  private async check(j: Journal): Promise<void> {
    failpoint('first-start');
    if (j.phase !== 'trying') j = this.o.store.advance(j, 'trying');
    this.journal = j;
    void this.report();
    const deadline = Date.now() + j.job.healthSeconds * 1000;
    const poll = this.o.healthPollMs ?? 500;
    const verdict = await new Promise<HealthStatus>((resolve) => {
      const tick = () => {
        const h = this.o.health();
        if ((h.forwarding && h.broker && h.config) || Date.now() >= deadline || this.stopped) return resolve(h);
        this.healthTimer = setTimeout(tick, poll);
      };
      tick();
    });
    if (this.stopped) return;
    if (verdict.forwarding && verdict.broker && verdict.config) {
      await this.o.chooser.commit(j.slot);
      failpoint('commit');
      return this.committed(j);
    }
    const failed = [!verdict.forwarding && 'the dataplane is not forwarding', !verdict.broker && 'the broker was not reached', !verdict.config && 'the configuration is not applied'].filter(Boolean).join(', ');
    const reason = `slot ${j.slot} failed its health check within ${j.job.healthSeconds} s: ${failed}${verdict.detail ? ` (${verdict.detail})` : ''}`;
    this.journal = this.o.store.advance(j, 'rolling-back', { error: { code: 'OTA_HEALTH', reason } });
    this.o.log.error({ reason }, 'ota: rolling back');
    await this.o.chooser.cancelTrial();
    failpoint('cancel');
    await this.restart(`rolling back: ${reason}`);
  }

  private async committed(j: Journal): Promise<void> {
    if (j.bundle) this.o.store.raiseFloor(j.bundle.securityVersion);
    this.journal = this.o.store.advance(j, 'committed');
    this.state = await this.o.chooser.read();
    this.o.log.info({ slot: j.slot, version: j.bundle?.version }, 'ota: new slot committed');
    await this.report();
    this.takePending();
  }

  private async rolledBack(j: Journal, reason: string): Promise<void> {
    this.journal = this.o.store.advance(j, 'rolled-back', { error: { code: j.error?.code ?? 'OTA_ROLLED_BACK', reason } });
    this.o.log.error({ slot: j.slot, reason }, 'ota: rolled back');
    await this.report();
    this.takePending();
  }

  private takePending(): void {
    const job = this.pendingJob;
    this.pendingJob = undefined;
    if (job && job.id !== this.journal?.job.id) this.run(() => this.install(job));
  }

  private slotsSummary(s: SlotsFile): OtaStateReport['slots'] {
    const one = (x: Slot) => {
      const r = s.slots[x];
      return r ? { version: r.version, securityVersion: r.securityVersion } : null;
    };
    return { A: one('A'), B: one('B') };
  }

  snapshot(): OtaStateReport {
    const j = this.journal;
    const slots = this.o.store.slots();
    const p = this.progress;
    const r: OtaStateReport = {
      device: this.o.device,
      phase: j?.phase ?? 'idle',
      running: { slot: this.booted, version: slots.slots[this.booted]?.version ?? null },
      slots: this.slotsSummary(slots),
      securityFloor: slots.securityFloor,
      at: new Date().toISOString(),
    };
    if (j) {
      r.job = j.job.id;
      r.slot = j.slot;
      if (j.bundle) r.version = j.bundle.version;
      if (j.error) r.error = j.error;
      if (j.phase === 'downloading') {
        const bytes = p?.bytes ?? j.verifiedBytes;
        const total = p?.total || j.bundle?.size || 0;
        r.progress = { bytes, total, percent: total ? Math.floor((bytes * 1000) / total) / 10 : 0 };
      }
    }
    if (this.rejectedJob) r.rejectedJob = this.rejectedJob;
    if (this.waiting) r.waitingForWindow = { ...this.waiting, next: this.windowTask?.getNextRun()?.toISOString() ?? null };
    return r;
  }

  async report(): Promise<void> {
    try {
      await this.o.publish(this.snapshot());
    } catch (e) {
      this.o.log.debug({ err: (e as Error).message }, 'ota state not published');
    }
  }
}
