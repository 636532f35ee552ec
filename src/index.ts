/* The agent's public surface: what other packages and tools may import. */
export { Dataplane } from './dataplane/dataplane';
export type { OpenOptions, PcapInterfaceOptions } from './dataplane/dataplane';
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
