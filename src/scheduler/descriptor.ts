/* What a config kind tells the scheduler (after Ligato's KVDescriptor): how
 * to check a value, what it needs first, what it derives, and how to put it
 * into and take it out of the dataplane. The scheduler knows nothing else
 * about kinds, so a new kind is a model plus one of these. */
import { Dataplane } from '../dataplane/dataplane';

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

export interface Descriptor<V = any> {
  name: string; /* a top-level kind is the key's first segment */
  /* Top-level kinds only: the key's segments after the kind, and the value. */
  validateName?(parts: string[], path: string): void;
  validate?(value: unknown, path: string, name: string): V;
  dependencies?(key: string, value: V): Dependency[];
  derived?(key: string, value: V): DerivedItem[];
  create(ctx: ApplyContext, key: string, value: V): void;
  delete(ctx: ApplyContext, key: string, value: V): void;
  /* In place; without it every change is a delete and a create. */
  update?(ctx: ApplyContext, key: string, old: V, value: V): void;
  /* Changes update cannot make (they re-create the item and its dependents). */
  needsRecreate?(old: V, value: V): boolean;
  /* Default: the same JSON. Derived parts are compared as their own items. */
  equivalent?(a: V, b: V): boolean;
  /* Default: the dataplane was short of memory or I/O failed. */
  retriable?(err: unknown): boolean;
}

export type AnyDescriptor = Descriptor<any>;
