/* The agent's public surface: what other packages and tools may import. */
export { Dataplane, configureTty } from './dataplane/dataplane';
export type {
  OpenOptions,
  PcapInterfaceOptions,
  PcapTraceOptions,
  PcapTraceStatus,
  PingOptions,
  PingReply,
  PingResult,
  BufferPoolInfo,
  ThreadInfo,
} from './dataplane/dataplane';
export type { NodeRuntime, ErrorCount, InterfaceCounters } from './dataplane/counters';
export type { PgStatus } from './dataplane/binding';
export { formatPgSpec } from './dataplane/pg-spec';
export type { PgStreamSpec, PgEdit, Ranged } from './dataplane/pg-spec';
export { selectVariant } from './dataplane/variant';
export type { VariantInfo } from './dataplane/variant';
export { loadBoard } from './board/load';
export type { Board, Port } from './board/schema';
export { createLogger } from './log';
export * from './errors';
export { ConfigError } from './models/check';
export type { FieldProblem } from './models/check';
export { validateDocument } from './models/document';
export type { ConfigDocument, ValidDocument } from './models/document';
export type { InterfaceConfig } from './models/interface';
export type { BridgeDomainConfig, BridgePort } from './models/bridge-domain';
export type { RouteConfig, RouteNextHop } from './models/route';
export type { NeighborConfig } from './models/neighbor';
export type { SystemConfig } from './models/system';
export { Scheduler, formatPlan } from './scheduler/scheduler';
export type { ItemState, ItemStateName, PlanView, SchedulerOptions, Transaction, TransactionItem } from './scheduler/scheduler';
export type { ApplyContext, Dependency, Descriptor, DerivedItem } from './scheduler/descriptor';
export { Registry } from './scheduler/registry';
export { defaultRegistry } from './descriptors';
