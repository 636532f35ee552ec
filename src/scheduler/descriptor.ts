/* What a config kind tells the scheduler (after Ligato's KVDescriptor): how
 * to check a value, what it needs first, what it derives, and how to put it
 * into and take it out of the dataplane. The scheduler knows nothing else
 * about kinds, so a new kind is a model plus one of these. */
import { Dataplane, InterfaceInfo } from '../dataplane/dataplane';

/* A key that must be CONFIGURED first, or any item of `kind` that `match`es
 * (a route over a bare next hop needs some address covering it). */
export type Dependency = string | { label: string; kind: string; match: (key: string, value: unknown) => boolean };

export interface DerivedItem {
  key: string; /* under the parent's key: interfaces/wan0/address/10.1.0.1/24 */
  descriptor: string;
  value: unknown;
}

export interface ApplyContext {
  dp: Dataplane;
  /* sw_if_index of a dataplane interface; throws naming it when absent. */
  ifIndex(name: string): number;
}

/* What a resync hands each retrieve: the dataplane, and its interface table
 * read once. */
export interface RetrieveContext {
  dp: Dataplane;
  /* The interfaces the agent may own: the unmanaged ones (the board's ports) left out. */
  interfaces: InterfaceInfo[];
  /* The name of any interface, unmanaged ones included (a route may point at one). */
  ifName(swIfIndex: number): string | undefined;
  /* False for an unmanaged interface: nothing on it is read back, so nothing on it is deleted. */
  managed(name: string): boolean;
}

export interface RetrievedItem<V = unknown> {
  key: string;
  value: V;
}

export interface Descriptor<V = any> {
  name: string; /* a top-level kind is the key's first segment */
  /* Top-level kinds only: the key's segments after the kind, and the value. */
  validateName?(parts: string[], path: string): void;
  validate?(value: unknown, path: string, name: string): V;
  dependencies?(key: string, value: V): Dependency[];
  /* A value this agent validated before (read back from its own saved
   * file), with the parts many items have in common (next hops) made shared
   * as validate makes them. */
  share?(value: V): V;
  derived?(key: string, value: V): DerivedItem[];
  create(ctx: ApplyContext, key: string, value: V): void;
  /* Optional: create for many items at once, where the dataplane takes
   * them in one call (one barrier): what each threw, undefined where it
   * went in. The scheduler hands it runs of creates whose dependencies are
   * already in. */
  createMany?(ctx: ApplyContext, items: readonly { key: string; value: V }[]): (unknown | undefined)[];
  delete(ctx: ApplyContext, key: string, value: V): void;
  /* In place; without it every change is a delete and a create. */
  update?(ctx: ApplyContext, key: string, old: V, value: V): void;
  /* Changes update cannot make (they re-create the item and its dependents). */
  needsRecreate?(old: V, value: V): boolean;
  /* Default: the same JSON. Derived parts are compared as their own items. */
  equivalent?(a: V, b: V): boolean;
  /* Default: the dataplane was short of memory or I/O failed. */
  retriable?(err: unknown): boolean;
  /* What the dataplane holds of this kind, each value in the shape validate
   * (or the parent's derived) gives, so a resync diffs it against the
   * desired one. Only what the agent could have put there: not what the
   * dataplane derives or learns itself. Without it the kind is not in the
   * dataplane, and a resync keeps what the scheduler last applied. */
  retrieve?(ctx: RetrieveContext): RetrievedItem<V>[];
}

export type AnyDescriptor = Descriptor<any>;
