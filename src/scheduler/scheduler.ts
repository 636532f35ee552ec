/* The KV scheduler: takes whole desired documents, and moves the dataplane
 * to them one transaction at a time, in dependency order. Every item has a
 * state you can show, and every transaction is kept in the history. */
import { Dataplane, ROUTES_PER_CALL } from '../dataplane/dataplane';
import { DataplaneError, VecgateError } from '../errors';
import { isValidDocument, validateDocument } from '../models/document';
import { defaultRegistry } from '../descriptors';
import { ApplyContext, RetrieveContext } from './descriptor';
import { AppliedItem, Item, KeyLists, kindOf, Operation, Plan, plan, PlannedOp } from './plan';
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
  /* Dataplane interfaces the agent does not own (the board's ports): a
   * resync reads back neither them nor what sits on them (addresses,
   * bridge ports, static neighbors), so never deletes any of it. */
  unmanagedInterfaces?: string[];
  /* Called after every transaction, the ones retries start on a timer too. */
  onTransaction?: (t: Transaction) => void;
}

const RETRY = { baseMs: 100, maxMs: 30_000, attempts: 6 };

function defaultRetriable(e: unknown): boolean {
  return e instanceof DataplaneError && (e.errorName === 'ENOMEM' || e.errorName === 'EIO');
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/* Shared by every configured item: most items are, and state() copies. */
const CONFIGURED: ItemState = Object.freeze({ state: 'CONFIGURED' });

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
  private readonly lists = new KeyLists();
  private timer?: NodeJS.Timeout;
  private readonly retry: typeof RETRY;
  private readonly historySize: number;
  private readonly unmanaged: Set<string>;
  private readonly onTransaction?: (t: Transaction) => void;

  constructor(
    private dp: Dataplane,
    opts: SchedulerOptions = {},
  ) {
    this.registry = opts.registry ?? defaultRegistry();
    this.retry = { ...RETRY, ...opts.retry };
    this.historySize = opts.historySize ?? 32;
    this.unmanaged = new Set(opts.unmanagedInterfaces ?? []);
    this.onTransaction = opts.onTransaction;
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
    const p = plan(desired, this.applied, this.held('dry-run'), this.lists);
    return {
      version,
      operations: [...p.deletes, ...p.applies].map((op) => ({ key: op.key, operation: op.operation, ...(op.pending ? { reason: op.pending } : {}) })),
      pending: [...p.pending].map(([key, reason]) => ({ key, reason })),
    };
  }

  /* Moves `dp` to the desired config by what it reports, not by what this
   * scheduler remembers: at start (dp may hold what an earlier run put
   * there) and after a dataplane restart (dp is fresh). What every
   * descriptor's retrieve reads back becomes the applied set, and the usual
   * plan follows: what is not desired comes out, what is missing goes in,
   * what differs is updated or re-created. Kinds without retrieve are not in
   * the dataplane and stay as last applied. With `doc` (the agent's start:
   * the saved document), it is checked whole as apply does and becomes the
   * desired config first. */
  resync(dp: Dataplane, trigger = 'resync', doc?: unknown): Transaction {
    const next = doc === undefined ? undefined : this.expand(doc);
    const found = this.retrieve(dp);
    if (next) {
      this.desired = next.desired;
      this.version = next.version;
    }
    this.dp = dp;
    for (const [key, a] of this.applied) if (!a.item.descriptor.retrieve) found.set(key, a);
    this.applied.clear();
    for (const [key, a] of found) {
      this.applied.set(key, a);
      /* In the dataplane: CONFIGURED unless the plan below says otherwise. */
      if (this.desired.has(key)) this.states.set(key, CONFIGURED);
    }
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

  /* Every retrievable kind as the dataplane holds it, each item with the
   * found items it sits on, so what is stale comes out dependents first. */
  private retrieve(dp: Dataplane): Map<string, AppliedItem> {
    const all = dp.interfaces();
    const names = new Map(all.map((i) => [i.swIfIndex, i.name]));
    const ctx: RetrieveContext = {
      dp,
      interfaces: all.filter((i) => !this.unmanaged.has(i.name)),
      ifName: (sw) => names.get(sw),
      managed: (name) => !this.unmanaged.has(name),
    };
    const items = new Map<string, Item>();
    for (const d of this.registry.descriptors()) {
      for (const { key, value } of d.retrieve?.(ctx) ?? []) items.set(key, { key, descriptor: d, value, deps: this.lists.get(d.dependencies?.(key, value) ?? []) });
    }
    const byKind = new Map<string, Item[]>();
    for (const item of items.values()) (byKind.get(kindOf(item.key)) ?? byKind.set(kindOf(item.key), []).get(kindOf(item.key))!).push(item);
    const found = new Map<string, AppliedItem>();
    for (const item of items.values()) {
      const depKeys = item.deps.flatMap((dep) =>
        typeof dep === 'string'
          ? items.has(dep) ? [dep] : []
          : (byKind.get(dep.kind) ?? []).filter((c) => c.key !== item.key && dep.match(c.key, c.value)).map((c) => c.key),
      );
      found.set(item.key, { item, depKeys: this.lists.get(depKeys) });
    }
    return found;
  }

  /* A raw document is validated here; a ValidDocument (what the agent
   * merged from layers it validated on arrival) is taken as it is. */
  private expand(doc: unknown): { version: number; desired: Map<string, Item> } {
    const valid = isValidDocument(doc) ? doc : validateDocument(doc, this.registry);
    const desired = new Map<string, Item>();
    const add = (key: string, descriptorName: string, value: unknown) => {
      const d = this.registry.descriptor(descriptorName);
      desired.set(key, { key, descriptor: d, value, deps: this.lists.get(d.dependencies?.(key, value) ?? []) });
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
    const p = plan(this.desired, this.applied, this.held(trigger), this.lists);
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
    this.onTransaction?.(txn);
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
    const ops = p.applies;
    for (let i = 0; i < ops.length; ) {
      const op = ops[i]!;
      if (stuck.has(op.key)) {
        i++;
        continue;
      }
      /* A dependency that failed in this transaction leaves this one waiting. */
      const missing = op.depKeys.find((k) => !this.applied.has(k));
      if (missing !== undefined) {
        const reason = `waiting for ${missing} (${this.states.get(missing)?.state ?? 'PENDING'})`;
        this.states.set(op.key, { state: 'PENDING', reason });
        txn.items.push({ key: op.key, operation: op.operation, result: 'PENDING', reason });
        i++;
        continue;
      }
      const run = this.createRun(ops, i, stuck);
      if (run.length > 1) {
        let errors: unknown[];
        try {
          errors = op.item!.descriptor.createMany!(ctx, run.map((o) => ({ key: o.key, value: o.item!.value })));
        } catch (e) {
          errors = run.map(() => e ?? new Error('failed'));
        }
        run.forEach((o, k) => this.settle(o, txn, errors[k]));
        i += run.length;
        continue;
      }
      let error: unknown;
      try {
        const item = op.item!;
        if (op.operation === 'create') item.descriptor.create(ctx, op.key, item.value);
        else item.descriptor.update!(ctx, op.key, this.applied.get(op.key)!.item.value, item.value);
      } catch (e) {
        error = e ?? new Error('failed');
      }
      this.settle(op, txn, error);
      i++;
    }
  }

  /* ops[from] and the creates after it of the same kind that can go in
   * together: the kind takes many at once and each one's dependencies are
   * in before any of them is made. At most CREATE_MANY_MAX: what a call
   * builds then dies young, where a run of 10,000 routes lived long enough
   * to reach V8's old space (measured: ~1-2 MB more RSS after a cold start). */
  private createRun(ops: readonly PlannedOp[], from: number, stuck: Set<string>): PlannedOp[] {
    const first = ops[from]!;
    const d = first.item!.descriptor;
    if (first.operation !== 'create' || !d.createMany) return [first];
    const run = [first];
    for (let i = from + 1; i < ops.length && run.length < CREATE_MANY_MAX; i++) {
      const op = ops[i]!;
      if (op.operation !== 'create' || op.item!.descriptor !== d || stuck.has(op.key)) break;
      if (!op.depKeys.every((k) => this.applied.has(k))) break;
      run.push(op);
    }
    return run;
  }

  /* An apply's outcome (error undefined: it went in): CONFIGURED, or FAILED
   * and retried later when the error may pass. */
  private settle(op: PlannedOp, txn: Transaction, error: unknown): void {
    const item = op.item!;
    if (error === undefined) {
      this.applied.set(op.key, { item, depKeys: op.depKeys });
      this.states.set(op.key, CONFIGURED);
      this.attempts.delete(op.key);
      txn.items.push({ key: op.key, operation: op.operation, result: 'CONFIGURED' });
      return;
    }
    const retriable = (item.descriptor.retriable ?? defaultRetriable)(error);
    const n = (this.attempts.get(op.key) ?? 0) + 1;
    const again = retriable && n < this.retry.attempts;
    if (again) this.attempts.set(op.key, n);
    else this.attempts.delete(op.key);
    this.states.set(op.key, { state: 'FAILED', error: message(error), ...(again ? { retry: n } : {}) });
    txn.items.push({ key: op.key, operation: op.operation, result: 'FAILED', error: message(error) });
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

/* Items a createMany call takes: one dataplane call's worth of routes
 * (Dataplane.ip4RouteAddMany's slice). */
const CREATE_MANY_MAX = ROUTES_PER_CALL;

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
