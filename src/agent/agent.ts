/* The agent: desired configuration comes down (persisted document at boot,
 * then group and device documents over MQTT) through the scheduler into the
 * dataplane; observed state goes up (state, status, telemetry). One place
 * decides what is desired: reconcile(). */
import { EventEmitter } from 'node:events';

import { Dataplane } from '../dataplane/dataplane';
import { VecgateError } from '../errors';
import { Logger } from '../log';
import { ConfigError, FieldProblem } from '../models/check';
import { Scheduler, SchedulerOptions, Transaction } from '../scheduler/scheduler';
import type { TrustAnchor } from '../transport/cose';
import type { LinkMessage, LinkStatus, LinkTls, MqttLink } from '../transport/mqtt';
import { Topics } from '../transport/topics';
import { KeptConfigs, KeptLimit, ROLLBACK_KEPT } from './kept-configs';
import { Layer, mergeLayers, parseLayer, sameSources, sha256 } from './layers';
import { AppliedConfig, ConfigStore, rawDocument, SavedConfig, trustedDocument } from './store';
import { COLLECT_AFTER_ITEMS, collectGarbage } from './memory';
import { composeState, ConfirmReport, RejectionReport, RollbackReport, StateReport } from './state-report';

/* The codec (cbor-x) is needed once MQTT is: loaded then, not on the way to forwarding. */
const codec = () => require('../transport/codec') as typeof import('../transport/codec');
const encodeCbor = (v: unknown) => codec().encodeCbor(v);

export interface AgentOptions {
  fleet: string;
  device: string;
  groups: string[];
  stateDir: string;
  anchors: TrustAnchor[];
  allowUnsigned: boolean;
  maxDocumentBytes: number;
  /* Opens the dataplane with the board's ports, not yet started: at boot
   * and after a restart. The agent configures it, then starts it. */
  openDataplane: () => Dataplane;
  unmanagedInterfaces?: string[];
  scheduler?: SchedulerOptions;
  agentVersion: string;
  /* How long after a (re)connect retained documents may keep arriving before the layers are merged. */
  settleMs?: number;
  /* How many applied configurations are kept for rollback (default ROLLBACK_KEPT). */
  rollbackKept?: Partial<KeptLimit>;
  log: Logger;
}

export interface ConnectOptions {
  url: string;
  tls?: LinkTls;
  backoff?: { minMs?: number; maxMs?: number };
  keepaliveSeconds?: number;
  /* Topics beyond the config documents (OTA jobs): their messages are emitted as 'topic'. */
  subscribe?: string[];
}

/* One transaction as `show config history` lists it. */
export interface HistoryEntry {
  seq: number;
  trigger: string;
  version: number;
  started: string;
  durationMs: number;
  counts: Record<string, number>; /* items by result */
  canRollBack: boolean; /* the configuration after it is still kept */
}

interface ConfirmWindow {
  seconds: number;
  appliedAt: number;
  previous: AppliedConfig | null;
  previousLayers: Map<string, Layer> | null; /* null after a reboot: only the merged document is known */
  timer: NodeJS.Timeout;
}

export class Agent extends EventEmitter {
  readonly topics: Topics;
  readonly store: ConfigStore;
  private dp: Dataplane;
  readonly scheduler: Scheduler;
  private link?: MqttLink;
  private readonly layers = new Map<string, Layer>(); /* as received and accepted */
  private appliedLayers = new Map<string, Layer>(); /* as in the applied document */
  private applied: AppliedConfig | null = null;
  private appliedAt?: Date;
  private rejected?: RejectionReport;
  private confirm?: ConfirmWindow;
  private confirmReport?: ConfirmReport;
  /* Layers (by sha256) that commit-confirm took back: not applied again when re-delivered. */
  private readonly reverted = new Set<string>();
  private readonly kept: KeptConfigs;
  /* Configurations whose items are validated values (not read from another agent's file). */
  private readonly validated = new WeakSet<AppliedConfig>();
  /* Set while the applied configuration is a rollback, not the merge of the fleet's layers. */
  private rolledBack?: RollbackReport;
  private syncing = false;
  private stopped = false;
  private persistError?: string;
  private settleTimer?: NodeJS.Timeout;
  private stateSeq = 0;
  /* For the OTA health check: the broker was reached, and the fleet's documents merged after it. */
  private brokerReached = false;
  private mergedAfterConnect = false;
  private readonly order: string[];
  private readonly log: Logger;

  constructor(private readonly opts: AgentOptions) {
    super();
    this.log = opts.log;
    this.topics = new Topics(opts.fleet, opts.device);
    this.store = new ConfigStore(opts.stateDir, opts.agentVersion);
    this.order = [...opts.groups.map((g) => `group/${g}`), 'device'];
    this.kept = new KeptConfigs({ ...ROLLBACK_KEPT, ...opts.rollbackKept });
    this.dp = opts.openDataplane();
    this.scheduler = new Scheduler(this.dp, {
      ...opts.scheduler,
      unmanagedInterfaces: opts.unmanagedInterfaces ?? [],
      onTransaction: (t) => this.onRetry(t),
    });
  }

  get dataplane(): Dataplane {
    return this.dp;
  }

  get mqtt(): MqttLink | undefined {
    return this.link;
  }

  /* Before any broker: the dataplane is brought to the persisted document
   * (a resync, so a dataplane that already holds things is diffed, not
   * doubled), then started, so it forwards with its whole configuration
   * and no table call waits on a barrier. A commit-confirm window that was
   * open at power loss is opened again: the broker must be reached within
   * it after this boot. */
  boot(): Transaction | undefined {
    try {
      return this.configureFromDisk();
    } finally {
      if (!this.dp.isRunning()) this.dp.start();
    }
  }

  /* Once forwarding is under way (the caller has said so): the garbage of
   * reading and applying a large saved document goes now, not later. */
  settleAfterBoot(): void {
    const last = this.scheduler.history().at(-1);
    if (last) this.afterLargeTransaction(last);
  }

  private configureFromDisk(): Transaction | undefined {
    let saved: SavedConfig | undefined;
    let trusted = false;
    try {
      const loaded = this.store.load();
      saved = loaded?.saved;
      trusted = loaded?.trusted ?? false;
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'persisted configuration unreadable; starting empty');
    }
    if (!saved) {
      this.keep(this.scheduler.resync(this.dp, 'boot'));
      return undefined;
    }
    let txn: Transaction;
    try {
      /* A diff against what the dataplane holds: it may outlive the agent. */
      txn = this.scheduler.resync(this.dp, 'boot', trusted ? trustedDocument(saved.document, this.scheduler.registry) : saved.document);
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'persisted configuration refused; starting empty');
      return undefined;
    }
    this.applied = { document: saved.document, sources: saved.sources };
    if (trusted) this.validated.add(this.applied);
    this.appliedAt = new Date(saved.savedAt);
    this.keep(txn);
    if (saved.confirm) {
      this.openConfirm(saved.confirm.seconds, saved.confirm.previous, null, saved.sources);
    }
    this.log.info({ version: saved.document.version, items: Object.keys(saved.document.items).length, trusted, ms: txn.durationMs }, 'booted from the persisted configuration');
    return txn;
  }

  connect(c: ConnectOptions): void {
    const t = this.topics;
    /* mqtt.js is loaded once the box forwards: it costs ~0.1 s of a cold start. */
    const { MqttLink } = require('../transport/mqtt') as typeof import('../transport/mqtt');
    this.link = new MqttLink({
      url: c.url,
      tls: c.tls,
      clientId: `vecgate-${this.opts.fleet}-${this.opts.device}`,
      will: { topic: t.status, payload: encodeCbor({ state: 'offline', reason: 'connection lost', device: this.opts.device }) },
      subscriptions: [...this.opts.groups.map((g) => t.groupConfig(g)), t.deviceConfig, ...(c.subscribe ?? [])],
      backoff: c.backoff,
      keepaliveSeconds: c.keepaliveSeconds,
      log: this.log.child({ component: 'mqtt' }),
    });
    this.link.on('up', (version: number) => this.onUp(version));
    this.link.on('down', (why: string) => this.log.warn({ why }, 'broker connection lost'));
    this.link.on('message', (m: LinkMessage) => this.onMessage(m));
    this.link.start();
  }

  /* After the dataplane died or was replaced: a fresh one with the board's
   * ports, then a resync brings every desired item back. */
  restartDataplane(): Transaction {
    const old = this.dp;
    try {
      old.close();
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'closing the old dataplane failed');
    }
    this.dp = this.opts.openDataplane();
    const txn = this.scheduler.resync(this.dp, 'dataplane-restart');
    this.keep(txn);
    this.dp.start();
    this.log.info({ operations: txn.items.length, ms: txn.durationMs }, 'dataplane restarted and resynced');
    void this.publishState();
    return txn;
  }

  /* The broker link as `show mqtt` shows it; undefined before connect(). */
  mqttStatus(): LinkStatus | undefined {
    return this.link?.status();
  }

  /* The scheduler's transactions, oldest first, with what each did and
   * whether the configuration after it can be gone back to. */
  configHistory(): HistoryEntry[] {
    return this.scheduler.history().map((t) => ({
      seq: t.seq,
      trigger: t.trigger,
      version: t.version,
      started: t.started,
      durationMs: t.durationMs,
      counts: countResults(t),
      canRollBack: !!this.kept.get(t.seq),
    }));
  }

  /* Applies the whole configuration as it stood right after transaction
   * `seq`, and saves it: the console's way back. It runs until the fleet's
   * next document, or the next delivery of the current one (a reconnect),
   * replaces it: the fleet stays the source of truth. Refused (VecgateError,
   * nothing changed) for a transaction not kept, or while a commit-confirm
   * window is open. */
  rollback(seq: number): Transaction {
    const target = this.rollbackTarget(seq);
    let txn: Transaction;
    try {
      txn = this.scheduler.apply(this.validated.has(target) ? trustedDocument(target.document, this.scheduler.registry) : target.document, 'rollback');
    } catch (e) {
      throw new VecgateError('ROLLBACK_REFUSED', `cannot roll back to transaction ${seq}: ${(e as Error).message}; the running configuration is unchanged`, { cause: e });
    }
    this.applied = target;
    this.appliedAt = new Date();
    this.rolledBack = { toTransaction: seq, transaction: txn.seq, at: this.appliedAt.toISOString() };
    this.persist();
    this.keep(txn);
    this.log.info({ version: target.document.version, toTransaction: seq, txn: txn.seq, ms: txn.durationMs, ...countResults(txn) }, `rolled back to the configuration after transaction ${seq}`);
    this.logNotConfigured(txn);
    this.afterLargeTransaction(txn);
    this.emit('applied', txn);
    void this.publishState();
    return txn;
  }

  private rollbackTarget(seq: number): AppliedConfig {
    const history = this.scheduler.history();
    const first = history[0]?.seq ?? 0;
    const last = history.at(-1)?.seq ?? 0;
    if (!Number.isInteger(seq) || seq < 1 || seq > last) {
      throw new VecgateError('ROLLBACK_UNKNOWN', `cannot roll back to transaction ${seq}: there is no such transaction (${last ? `the last is ${last}` : 'none yet'})`);
    }
    if (this.confirm) {
      const until = new Date(this.confirm.appliedAt + this.confirm.seconds * 1000).toISOString();
      throw new VecgateError('ROLLBACK_CONFIRM_OPEN', `cannot roll back to transaction ${seq} while a commit-confirm window is open (until ${until}): the change must be confirmed or reverted first`);
    }
    const k = this.kept.get(seq);
    if (k) return k;
    const { documents, items } = this.kept.limit;
    const why =
      seq < first ? `it is older than the history kept (transactions ${first} to ${last})`
      : k === null ? 'no configuration was applied then'
      : `its configuration is no longer kept (the last ${documents} configurations, ${items} items in all, are)`;
    throw new VecgateError('ROLLBACK_NOT_KEPT', `cannot roll back to transaction ${seq}: ${why}`);
  }

  /* After every transaction: what is applied now is the configuration after it. */
  private keep(txn: Transaction): void {
    this.kept.keep(txn.seq, this.applied, this.scheduler.history()[0]?.seq ?? txn.seq);
  }

  /* What `state` reports now. */
  report(): StateReport {
    return composeState({
      seq: this.stateSeq,
      device: this.opts.device,
      applied: this.applied,
      appliedAt: this.appliedAt,
      scheduler: this.scheduler,
      rejected: this.rejected,
      persistError: this.persistError,
      confirm: this.confirm
        ? { state: 'waiting', seconds: this.confirm.seconds, deadline: new Date(this.confirm.appliedAt + this.confirm.seconds * 1000).toISOString() }
        : this.confirmReport,
      rollback: this.rolledBack,
      image: { agent: this.opts.agentVersion, variant: this.dp.variantInfo.variant },
    });
  }

  /* Publishes the state (retained); resolves true when the broker took it.
   * That acknowledgement is also what confirms a commit-confirm change. */
  async publishState(): Promise<boolean> {
    if (!this.link?.connected) return false;
    this.stateSeq++;
    const state = this.report();
    const confirming = this.confirm;
    try {
      await this.link.publish(this.topics.state, encodeCbor(state), true);
    } catch (e) {
      this.log.debug({ err: (e as Error).message }, 'state not published');
      return false;
    }
    if (confirming && this.confirm === confirming) this.confirmed();
    this.emit('state', state);
    return true;
  }

  async publish(topic: string, value: unknown, retain = false): Promise<boolean> {
    if (!this.link?.connected) return false;
    try {
      await this.link.publish(topic, encodeCbor(value), retain);
      return true;
    } catch {
      return false;
    }
  }

  /* What the OTA health check asks of the agent: the broker reached since
   * this start, and the fleet's configuration merged and applied with no
   * item FAILED (PENDING is fine: it waits on the fleet, not on the image). */
  health(): { broker: boolean; config: boolean; detail?: string } {
    const broker = this.brokerReached;
    if (!this.mergedAfterConnect) return { broker, config: false, detail: "the fleet's documents are not merged yet" };
    const failed = Object.entries(this.scheduler.state().items).filter(([, v]) => v.state === 'FAILED').map(([k]) => k);
    if (failed.length) return { broker, config: false, detail: `${failed.length} item(s) FAILED: ${failed.slice(0, 5).join(', ')}` };
    if (this.persistError) return { broker, config: false, detail: `the configuration is not saved: ${this.persistError}` };
    return { broker, config: true };
  }

  /* Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.settleTimer);
    if (this.confirm) clearTimeout(this.confirm.timer);
    this.scheduler.close();
    await this.link?.close({ topic: this.topics.status, payload: encodeCbor({ state: 'offline', reason: 'stopped', device: this.opts.device }) });
  }

  /* The dataplane is closed by whoever opened the process; the agent only drops it. */
  closeDataplane(): void {
    this.dp.close();
  }

  private onUp(version: number): void {
    this.log.info({ url: this.link!.url, protocol: version === 5 ? 'MQTT 5' : 'MQTT 3.1.1' }, 'connected to the broker');
    this.brokerReached = true;
    this.emit('up');
    void this.publish(this.topics.status, { state: 'online', device: this.opts.device, since: new Date().toISOString(), protocol: version === 5 ? '5' : '3.1.1', agent: this.opts.agentVersion, variant: this.dp.variantInfo.variant }, true);
    /* Retained documents follow the subscription; merge once they are in. */
    this.syncing = true;
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      this.syncing = false;
      this.reconcile('mqtt');
    }, this.opts.settleMs ?? 200);
  }

  private sourceOf(topic: string): string | undefined {
    if (topic === this.topics.deviceConfig) return 'device';
    const g = this.opts.groups.find((name) => topic === this.topics.groupConfig(name));
    return g === undefined ? undefined : `group/${g}`;
  }

  private onMessage(m: LinkMessage): void {
    const source = this.sourceOf(m.topic);
    if (!source) {
      this.emit('topic', m);
      return;
    }
    if (m.payload.length === 0) {
      /* The retained document was cleared: that layer is gone. */
      if (!this.layers.delete(source)) return;
      this.log.info({ source }, 'layer cleared');
    } else {
      const digest = sha256(m.payload);
      /* The same bytes again change nothing, unless a rollback runs: then
       * they bring the fleet's configuration back. */
      if (this.layers.get(source)?.sha256 === digest && !this.rolledBack) return;
      if (this.reverted.has(digest)) {
        this.log.info({ source }, 'document was reverted by commit-confirm; not applied again');
        return;
      }
      try {
        const d = codec().decodeDocument(m.payload, { maxBytes: this.opts.maxDocumentBytes, anchors: this.opts.anchors, allowUnsigned: this.opts.allowUnsigned });
        this.layers.set(source, parseLayer(source, d.document, m.payload, this.scheduler.registry, d.anchor));
      } catch (e) {
        this.reject(source, e, digest);
        return;
      }
    }
    if (!this.syncing) this.reconcile('mqtt');
  }

  private reject(source: string, e: unknown, digest: string, version?: number): void {
    const problems: FieldProblem[] = e instanceof ConfigError ? e.problems : [{ path: 'document', reason: (e as Error).message }];
    this.rejected = { source, ...(version !== undefined ? { version } : {}), sha256: digest, problems, at: new Date().toISOString() };
    this.log.warn({ source, problems }, `document from ${source} refused; the running configuration is unchanged`);
    void this.publishState();
  }

  /* Merges the layers and moves the dataplane to them, unless that is what
   * is applied already. Always ends by reporting state. */
  private reconcile(trigger: string): void {
    if (trigger === 'mqtt') this.mergedAfterConnect = true;
    const { valid, sources } = mergeLayers(this.order, this.layers);
    if (!sources.length) {
      /* No document on the broker at all: keep what the box has. */
      void this.publishState();
      return;
    }
    if (this.applied && sameSources(sources, this.applied.sources)) {
      this.appliedLayers = new Map(this.layers); /* after a boot, the layers behind the saved document */
      this.rolledBack = undefined; /* rolled back to what the fleet has now */
      void this.publishState();
      return;
    }
    const changed = sources.filter((s) => !this.applied?.sources.some((a) => a.source === s.source && a.sha256 === s.sha256));
    const confirmSeconds = Math.max(0, ...changed.map((s) => this.layers.get(s.source)?.commitConfirmSeconds ?? 0));
    const previous = this.applied;
    const previousLayers = this.appliedLayers;
    let txn: Transaction;
    try {
      txn = this.scheduler.apply(valid, trigger);
    } catch (e) {
      /* Each layer was fine alone but the merge is not: back to the applied layers. */
      const last = changed[changed.length - 1]!;
      const version = this.layers.get(last.source)?.version;
      this.setLayers(previousLayers);
      this.reject(last.source, e, last.sha256, version);
      return;
    }
    this.appliedLayers = new Map(this.layers);
    if (this.rejected && changed.some((s) => s.source === this.rejected!.source)) this.rejected = undefined;
    const document = rawDocument(valid);
    this.applied = { document, sources };
    this.validated.add(this.applied);
    this.appliedAt = new Date();
    this.rolledBack = undefined;
    this.keep(txn);
    if (this.confirm) this.closeConfirm();
    if (confirmSeconds > 0) {
      this.confirmReport = undefined;
      this.openConfirm(confirmSeconds, previous, previousLayers, changed);
    }
    this.persist();
    this.log.info({ version: document.version, sources, trigger, txn: txn.seq, ms: txn.durationMs, ...countResults(txn) }, 'configuration applied');
    this.logNotConfigured(txn);
    this.afterLargeTransaction(txn);
    this.emit('applied', txn);
    void this.publishState();
  }

  private setLayers(layers: ReadonlyMap<string, Layer>): void {
    this.layers.clear();
    for (const [k, v] of layers) this.layers.set(k, v);
  }

  private persist(): void {
    if (!this.applied) return;
    const c = this.confirm;
    try {
      this.store.save({
        ...this.applied,
        savedAt: (this.appliedAt ?? new Date()).toISOString(),
        ...(c ? { confirm: { seconds: c.seconds, appliedAt: new Date(c.appliedAt).toISOString(), previous: c.previous } } : {}),
      });
      this.persistError = undefined;
    } catch (e) {
      /* Applied but not saved: a power cut now boots the previous config. Said in state. */
      this.persistError = `${this.store.file}: ${(e as Error).message}`;
      this.log.error({ err: this.persistError }, 'could not persist the applied configuration');
    }
  }

  private openConfirm(seconds: number, previous: AppliedConfig | null, previousLayers: Map<string, Layer> | null, changed: { sha256: string }[]): void {
    const timer = setTimeout(() => this.revert(changed.map((s) => s.sha256)), seconds * 1000);
    this.confirm = { seconds, appliedAt: Date.now(), previous, previousLayers, timer };
    this.log.info({ seconds }, 'commit-confirm: waiting to reach the broker');
  }

  private closeConfirm(): void {
    clearTimeout(this.confirm?.timer);
    this.confirm = undefined;
  }

  private confirmed(): void {
    const c = this.confirm!;
    this.closeConfirm();
    this.confirmReport = { state: 'confirmed', seconds: c.seconds, at: new Date().toISOString() };
    this.persist();
    this.log.info('commit-confirm: broker reached, change confirmed');
    void this.publishState();
  }

  private revert(digests: string[]): void {
    const c = this.confirm;
    if (!c) return;
    this.closeConfirm();
    const why = `broker unreachable for ${c.seconds} s after applying version ${this.applied?.document.version ?? 0}`;
    for (const d of digests) this.reverted.add(d);
    const target = c.previous ?? { document: { version: 0, items: {} }, sources: [] };
    let txn: Transaction;
    try {
      txn = this.scheduler.apply(target.document, 'commit-confirm');
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'commit-confirm: the previous configuration could not be applied');
      return;
    }
    this.setLayers(c.previousLayers ?? new Map());
    this.appliedLayers = new Map(this.layers);
    this.applied = target;
    this.appliedAt = new Date();
    this.rolledBack = undefined;
    this.keep(txn);
    this.confirmReport = { state: 'reverted', seconds: c.seconds, at: this.appliedAt.toISOString(), reason: why, revertedTo: target.document.version };
    this.persist();
    this.log.warn({ reason: why, version: target.document.version, txn: txn.seq }, 'commit-confirm: reverted to the previous configuration');
    this.emit('reverted', why);
    void this.publishState();
  }

  /* After the state is on its way: the memory a large document took back to the budget. */
  private afterLargeTransaction(txn: Transaction): void {
    if (txn.items.length < COLLECT_AFTER_ITEMS) return;
    setImmediate(() => collectGarbage());
  }

  /* What did not go in, by name, so a person at the console sees why (the
   * first few; `state` has them all). */
  private logNotConfigured(txn: Transaction): void {
    const bad = txn.items.filter((i) => i.result === 'PENDING' || i.result === 'FAILED');
    for (const i of bad.slice(0, NOT_CONFIGURED_LOGGED)) this.log.warn({ key: i.key, result: i.result }, `${i.key} ${i.result}: ${i.reason ?? i.error}`);
    if (bad.length > NOT_CONFIGURED_LOGGED) this.log.warn(`... and ${bad.length - NOT_CONFIGURED_LOGGED} more not configured (see state)`);
  }

  /* Transactions the scheduler starts itself (retries) are reported too. */
  private onRetry(t: Transaction): void {
    if (t.trigger !== 'retry') return;
    this.keep(t);
    void this.publishState();
  }
}

const NOT_CONFIGURED_LOGGED = 10;

function countResults(t: Transaction): Record<string, number> {
  const n: Record<string, number> = {};
  for (const i of t.items) n[i.result] = (n[i.result] ?? 0) + 1;
  return n;
}
