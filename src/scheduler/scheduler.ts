/* The KV scheduler: takes whole desired documents, and moves the dataplane
 * to them one transaction at a time, in dependency order. Every item has a
 * state you can show, and every transaction is kept in the history. */
import { Dataplane } from '../dataplane/dataplane';
import { DataplaneError, VecgateError } from '../errors';
import { validateDocument } from '../models/document';
import { defaultRegistry } from '../descriptors';
import { ApplyContext } from './descriptor';
import { AppliedItem, Item, Operation, Plan, plan } from './plan';
import { Registry } from './registry';

export type ItemStateName = 'CONFIGURED' | 'PENDING' | 'FAILED' | 'REMOVED';

export interface ItemState {
  state: ItemStateName;
  reason?: string; /* PENDING: what it waits for */
  error?: string; /* FAILED: what the dataplane said */
  retry?: number; /* FAILED and retried: attempts so far */
}

export interface TransactionItem {
  key: string;
  operation: Operation;
  result: ItemStateName;
  reason?: string;
  error?: string;
}

export interface Transaction {
  seq: number;
  trigger: string; /* 'api', 'retry', 'resync', or what the caller names (mqtt, console) */
  version: number;
  started: string;
  durationMs: number;
  items: TransactionItem[];
}

export interface PlanView {
  version: number;
  operations: { key: string; operation: Operation; reason?: string }[];
  pending: { key: string; reason: string }[];
}

export interface SchedulerOptions {
  registry?: Registry;
  retry?: { baseMs?: number; maxMs?: number; attempts?: number };
  historySize?: number;
}

const RETRY = { baseMs: 100, maxMs: 30_000, attempts: 6 };

function defaultRetriable(e: unknown): boolean {
  return e instanceof DataplaneError && (e.errorName === 'ENOMEM' || e.errorName === 'EIO');
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class Scheduler {
  readonly registry: Registry;
  private desired = new Map<string, Item>();
  private version = 0;
  private readonly applied = new Map<string, AppliedItem>();
  private readonly states = new Map<string, ItemState>();
  private removed = new Set<string>();
  private readonly attempts = new Map<string, number>();
  private readonly transactions: Transaction[] = [];
  private seq = 0;
  private timer?: NodeJS.Timeout;
  private readonly retry: typeof RETRY;
  private readonly historySize: number;

  constructor(
    private dp: Dataplane,
    opts: SchedulerOptions = {},
  ) {
    this.registry = opts.registry ?? defaultRegistry();
    this.retry = { ...RETRY, ...opts.retry };
    this.historySize = opts.historySize ?? 32;
  }

  /* Validates the whole document (ConfigError, nothing touched, if any item
   * is bad), makes it the desired config and runs a transaction toward it. */
  apply(doc: unknown, trigger = 'api'): Transaction {
    const { version, desired } = this.expand(doc);
    this.desired = desired;
    this.version = version;
    return this.run(trigger);
  }

  /* What apply would do now, without doing it. */
  dryRun(doc: unknown): PlanView {
    const { version, desired } = this.expand(doc);
    const p = plan(desired, this.applied, this.held('dry-run'));
    return {
      version,
      operations: [...p.deletes, ...p.applies].map((op) => ({ key: op.key, operation: op.operation, ...(op.pending ? { reason: op.pending } : {}) })),
      pending: [...p.pending].map(([key, reason]) => ({ key, reason })),
    };
  }

  /* After a dataplane restart: everything desired is created again on the
   * fresh one, which this trusts to be empty. A true diff (desired against
   * what the dataplane holds) is the next step: a `retrieve` per descriptor
   * over the read-back calls (Dataplane.interfaces(), ip4Routes(), ...), once
   * bridge domains can be read back too and the board's own ports are told
   * apart from configured ones. */
  resync(dp: Dataplane, trigger = 'resync'): Transaction {
    this.dp = dp;
    this.applied.clear();
    this.attempts.clear();
    return this.run(trigger);
  }

  state(): { version: number; items: Record<string, ItemState> } {
    const items: Record<string, ItemState> = {};
    for (const key of [...this.states.keys()].sort()) items[key] = { ...this.states.get(key)! };
    for (const key of this.removed) items[key] ??= { state: 'REMOVED' };
    return { version: this.version, items };
  }

  history(): readonly Transaction[] {
    return this.transactions;
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private expand(doc: unknown): { version: number; desired: Map<string, Item> } {
    const valid = validateDocument(doc, this.registry);
    const desired = new Map<string, Item>();
    const add = (key: string, descriptorName: string, value: unknown) => {
      const d = this.registry.descriptor(descriptorName);
      desired.set(key, { key, descriptor: d, value, deps: d.dependencies?.(key, value) ?? [] });
      for (const x of d.derived?.(key, value) ?? []) add(x.key, x.descriptor, x.value);
    };
    for (const [key, { kind, value }] of valid.items) add(key, kind, value);
    return { version: valid.version, desired };
  }

  /* Items a transaction leaves alone: failed for good with the same value.
   * Only retries skip them; a new document or a resync tries them again. */
  private held(trigger: string): Set<string> {
    const hold = new Set<string>();
    if (trigger !== 'retry') return hold;
    for (const [key, s] of this.states) if (s.state === 'FAILED' && s.retry === undefined) hold.add(key);
    return hold;
  }

  private run(trigger: string): Transaction {
    this.close();
    const started = Date.now();
    const txn: Transaction = { seq: ++this.seq, trigger, version: this.version, started: new Date(started).toISOString(), durationMs: 0, items: [] };
    const p = plan(this.desired, this.applied, this.held(trigger));
    const ctx: ApplyContext = {
      dp: this.dp,
      ifIndex: (name) => this.dp.interfaceFind(name) ?? fail(`no interface ${name} in the dataplane`),
    };
    this.removed = new Set();
    const stuck = this.runDeletes(ctx, p, txn);
    this.runApplies(ctx, p, txn, stuck);
    this.markPending(p, txn);
    for (const key of [...this.states.keys()]) {
      if (!this.desired.has(key) && !this.applied.has(key)) {
        txn.items.push({ key, operation: 'delete', result: 'REMOVED' }); /* it never got in */
        this.states.delete(key);
        this.removed.add(key);
      }
    }
    txn.durationMs = Date.now() - started;
    this.transactions.push(txn);
    if (this.transactions.length > this.historySize) this.transactions.shift();
    this.scheduleRetry();
    return txn;
  }

  private runDeletes(ctx: ApplyContext, p: Plan, txn: Transaction): Set<string> {
    const stuck = new Set<string>(); /* could not come out: not re-created either */
    for (const op of p.deletes) {
      const a = this.applied.get(op.key)!;
      try {
        a.item.descriptor.delete(ctx, op.key, a.item.value);
        this.applied.delete(op.key);
        if (!this.desired.has(op.key)) {
          this.states.delete(op.key);
          this.removed.add(op.key);
          txn.items.push({ key: op.key, operation: 'delete', result: 'REMOVED' });
        } else if (op.pending !== undefined) {
          this.states.set(op.key, { state: 'PENDING', reason: op.pending });
          txn.items.push({ key: op.key, operation: 'delete', result: 'PENDING', reason: op.pending });
        } else {
          txn.items.push({ key: op.key, operation: 'delete', result: 'REMOVED' }); /* re-created below */
        }
      } catch (e) {
        stuck.add(op.key);
        this.states.set(op.key, { state: 'FAILED', error: message(e) });
        txn.items.push({ key: op.key, operation: 'delete', result: 'FAILED', error: message(e) });
      }
    }
    return stuck;
  }

  private runApplies(ctx: ApplyContext, p: Plan, txn: Transaction, stuck: Set<string>): void {
    for (const op of p.applies) {
      if (stuck.has(op.key)) continue;
      const item = op.item!;
      /* A dependency that failed in this transaction leaves this one waiting. */
      const missing = op.depKeys.find((k) => !this.applied.has(k));
      if (missing !== undefined) {
        const reason = `waiting for ${missing} (${this.states.get(missing)?.state ?? 'PENDING'})`;
        this.states.set(op.key, { state: 'PENDING', reason });
        txn.items.push({ key: op.key, operation: op.operation, result: 'PENDING', reason });
        continue;
      }
      try {
        if (op.operation === 'create') item.descriptor.create(ctx, op.key, item.value);
        else item.descriptor.update!(ctx, op.key, this.applied.get(op.key)!.item.value, item.value);
        this.applied.set(op.key, { item, depKeys: op.depKeys });
        this.states.set(op.key, { state: 'CONFIGURED' });
        this.attempts.delete(op.key);
        txn.items.push({ key: op.key, operation: op.operation, result: 'CONFIGURED' });
      } catch (e) {
        const retriable = (item.descriptor.retriable ?? defaultRetriable)(e);
        const n = (this.attempts.get(op.key) ?? 0) + 1;
        const again = retriable && n < this.retry.attempts;
        if (again) this.attempts.set(op.key, n);
        else this.attempts.delete(op.key);
        this.states.set(op.key, { state: 'FAILED', error: message(e), ...(again ? { retry: n } : {}) });
        txn.items.push({ key: op.key, operation: op.operation, result: 'FAILED', error: message(e) });
      }
    }
  }

  /* Items that wait on something: recorded when they start waiting or wait
   * for something else, not again in every transaction. */
  private markPending(p: Plan, txn: Transaction): void {
    const recorded = new Set(txn.items.map((i) => i.key));
    for (const [key, reason] of p.pending) {
      const s = this.states.get(key);
      if (s?.state === 'PENDING' && s.reason === reason) continue;
      this.states.set(key, { state: 'PENDING', reason });
      if (!recorded.has(key)) txn.items.push({ key, operation: 'create', result: 'PENDING', reason });
    }
  }

  /* Exponential backoff, bounded: the next retry after the least-tried item's delay. */
  private scheduleRetry(): void {
    if (!this.attempts.size) return;
    const n = Math.min(...this.attempts.values());
    const delay = Math.min(this.retry.baseMs * 2 ** (n - 1), this.retry.maxMs);
    this.timer = setTimeout(() => this.run('retry'), delay);
    this.timer.unref();
  }
}

function fail(why: string): never {
  throw new VecgateError('NO_INTERFACE', why);
}

/* The plan as an operator reads it: one operation a line, then what waits. */
export function formatPlan(p: PlanView): string {
  const lines = [`plan for version ${p.version}: ${p.operations.length} operations, ${p.pending.length} pending`];
  for (const op of p.operations) lines.push(`  ${op.operation.padEnd(6)} ${op.key}${op.reason ? ` (then pending: ${op.reason})` : ''}`);
  for (const w of p.pending) lines.push(`  pending ${w.key}: ${w.reason}`);
  return lines.join('\n');
}
