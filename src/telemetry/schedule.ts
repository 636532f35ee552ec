/* Telemetry on a cron schedule (node-cron, seconds field allowed): collect a
 * sample and hand it to `publish`. Runs never overlap: a tick that finds the
 * previous collection or publish still running is skipped, not queued. */
import * as cron from 'node-cron';

import { Dataplane } from '../dataplane/dataplane';
import { SpecError, VecgateError } from '../errors';
import { componentLogger, createLogger, Logger } from '../log';
import { collectTelemetry, CollectOptions, TelemetrySample } from './collect';

export const DEFAULT_TELEMETRY_SCHEDULE = '*/10 * * * * *'; /* every 10 seconds */

export type Publish = (sample: TelemetrySample) => void | Promise<void>;

/* Why node-cron refuses `expression`, or undefined when it accepts it. */
function cronProblem(expression: string): string | undefined {
  try {
    const detail = cron.validateDetailed(expression);
    if (!detail.valid) return detail.errors.map((e) => e.message).join('; ') || 'not a cron expression';
    return cron.validate(expression) ? undefined : 'not a cron expression';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/* node-cron's own warnings (a missed tick while the event loop was blocked) go to our log, not the console. */
function cronLogger(log: Logger): cron.Logger {
  return {
    info: (m) => log.debug(m),
    warn: (m) => log.warn(m),
    error: (m, err) => log.error({ err: err ?? m }, String(m)),
    debug: (m) => log.debug(String(m)),
  };
}

export class TelemetrySchedule {
  private task?: cron.ScheduledTask;
  private collecting?: Promise<TelemetrySample>;
  private tickRunning?: Promise<void>;
  private skipped = 0;
  private readonly log: Logger;

  constructor(
    private readonly dp: Dataplane | undefined,
    private readonly opts: CollectOptions = {},
  ) {
    this.log = opts.log ?? componentLogger(createLogger(), 'telemetry');
  }

  /* The cron expression while scheduled, else undefined. */
  get expression(): string | undefined {
    return this.task?.getPattern();
  }

  /* Ticks skipped because the previous run had not finished. */
  get skippedTicks(): number {
    return this.skipped;
  }

  start(cronExpression: string = DEFAULT_TELEMETRY_SCHEDULE, publish: Publish): void {
    if (this.task) throw new VecgateError('TELEMETRY_RUNNING', `telemetry is already scheduled (${this.task.getPattern()})`);
    const problem = cronProblem(cronExpression);
    if (problem) {
      const text = `${JSON.stringify(cronExpression)} is not a valid cron expression (${problem})`;
      throw new SpecError('telemetry.schedule', text, 'TELEMETRY_SCHEDULE_INVALID');
    }
    this.task = cron.schedule(cronExpression, () => this.tick(publish), { name: 'telemetry', logger: cronLogger(this.log) });
    this.log.info({ schedule: cronExpression }, `telemetry scheduled: ${cronExpression}`);
  }

  /* Removes the cron task and its timer at once. A collection in progress
   * finishes but is not published; a publish in progress is left to finish.
   * Not waiting for it lets publish itself call stop(). */
  stop(): void {
    const task = this.task;
    this.task = undefined;
    void task?.destroy(); /* destroy, not stop: it also leaves node-cron's task registry */
  }

  /* A sample now, outside the schedule; shares a collection already running. */
  sampleNow(): Promise<TelemetrySample> {
    if (!this.collecting) {
      const done = () => (this.collecting = undefined);
      this.collecting = collectTelemetry(this.dp, { ...this.opts, log: this.log }).finally(done);
    }
    return this.collecting;
  }

  private tick(publish: Publish): Promise<void> | void {
    if (this.tickRunning) {
      this.skipped++;
      this.log.warn({ skipped: this.skipped }, 'telemetry: previous sample still running, tick skipped');
      return;
    }
    const task = this.task;
    this.tickRunning = this.run(task, publish).finally(() => (this.tickRunning = undefined));
    return this.tickRunning;
  }

  private async run(task: cron.ScheduledTask | undefined, publish: Publish): Promise<void> {
    try {
      const sample = await this.sampleNow();
      if (!task || this.task !== task) return; /* stopped (or restarted) while collecting */
      await publish(sample);
    } catch (err) {
      this.log.error({ err }, 'telemetry: publishing the sample failed');
    }
  }
}
