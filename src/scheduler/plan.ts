/* Planning a transaction, with no dataplane calls: which desired items can
 * go in (all they depend on can), in what order, and what must come out
 * first. Pure, so dry-run and the real thing share it. */
import { AnyDescriptor, Dependency } from './descriptor';

export interface Item {
  key: string;
  descriptor: AnyDescriptor;
  value: unknown;
  deps: Dependency[];
}

/* An item in the dataplane, with the keys it was put in on top of. */
export interface AppliedItem {
  item: Item;
  depKeys: string[];
}

export type Operation = 'create' | 'update' | 'delete';

export interface PlannedOp {
  key: string;
  operation: Operation;
  item?: Item; /* create and update: the desired item */
  depKeys: string[];
  pending?: string; /* a delete because the item now waits on something */
}

export interface Plan {
  deletes: PlannedOp[]; /* dependents before what they depend on */
  applies: PlannedOp[]; /* dependencies before their dependents */
  pending: Map<string, string>; /* desired items that cannot go in, and why */
}

const json = (v: unknown) => JSON.stringify(v);

/* Many items sit on the same few keys (10,000 routes over one interface):
 * one shared, read-only list per distinct set of keys instead of one array
 * (and key strings) per item. Lists of other dependencies pass as they are. */
export class KeyLists {
  private readonly lists = new Map<string, readonly string[]>();

  get<T extends Dependency | string>(keys: T[]): T[] {
    if (!keys.length) return EMPTY as unknown as T[];
    if (keys.some((k) => typeof k !== 'string')) return keys;
    const id = keys.join('\n');
    let list = this.lists.get(id);
    if (!list) {
      if (this.lists.size >= MAX_LISTS) this.lists.clear(); /* old configurations' sets: no need to keep them all */
      this.lists.set(id, (list = Object.freeze(keys.slice() as string[])));
    }
    return list as T[];
  }
}

const EMPTY: readonly never[] = Object.freeze([]);
const MAX_LISTS = 65_536;

export function equivalent(d: AnyDescriptor, a: unknown, b: unknown): boolean {
  return d.equivalent ? d.equivalent(a, b) : json(a) === json(b);
}

function needsRecreate(d: AnyDescriptor, a: unknown, b: unknown): boolean {
  return !equivalent(d, a, b) && (!d.update || (d.needsRecreate?.(a, b) ?? false));
}

export const kindOf = (key: string) => key.slice(0, key.indexOf('/'));

/* `hold`: desired items left as they are (failed for good, value unchanged). */
export function plan(desired: Map<string, Item>, applied: Map<string, AppliedItem>, hold: Set<string>, lists = new KeyLists()): Plan {
  const byKind = new Map<string, Item[]>();
  for (const item of desired.values()) {
    const list = byKind.get(kindOf(item.key)) ?? byKind.set(kindOf(item.key), []).get(kindOf(item.key))!;
    list.push(item);
  }
  const blocked = new Map<string, string | null>(); /* null: can go in */
  const depKeys = new Map<string, string[]>();

  const check = (key: string): string | null => {
    if (blocked.has(key)) return blocked.get(key)!;
    blocked.set(key, 'dependency cycle'); /* seen again before it is decided: a cycle */
    const item = desired.get(key)!;
    let why: string | null = hold.has(key) ? 'FAILED' : null;
    const keys: string[] = [];
    for (const dep of item.deps) {
      if (typeof dep === 'string') {
        if (!desired.has(dep)) why ??= `missing ${dep}`;
        else if (check(dep) !== null) why ??= `waiting for ${dep} (${blocked.get(dep) === 'FAILED' ? 'FAILED' : 'PENDING'})`;
        keys.push(dep);
      } else {
        const ready = (byKind.get(dep.kind) ?? []).filter((c) => c.key !== key && dep.match(c.key, c.value) && check(c.key) === null);
        if (!ready.length) why ??= `missing ${dep.label}`;
        keys.push(...ready.map((c) => c.key));
      }
    }
    blocked.set(key, why);
    depKeys.set(key, lists.get(keys));
    return why;
  };
  for (const key of desired.keys()) check(key);

  /* Out: gone from the desired set, blocked now, or changed beyond update;
   * and then everything in the dataplane that sits on top of those. */
  const out = new Map<string, string | undefined>();
  for (const [key, a] of applied) {
    const d = desired.get(key);
    if (!d || d.descriptor !== a.item.descriptor) out.set(key, undefined);
    else if (hold.has(key)) continue;
    else if (blocked.get(key) !== null) out.set(key, blocked.get(key)!);
    else if (needsRecreate(d.descriptor, a.item.value, d.value)) out.set(key, undefined);
  }
  const dependents = new Map<string, string[]>();
  for (const [key, a] of applied) for (const dep of a.depKeys) (dependents.get(dep) ?? dependents.set(dep, []).get(dep)!).push(key);
  const queue = [...out.keys()];
  while (queue.length) {
    for (const k of dependents.get(queue.pop()!) ?? []) {
      if (!out.has(k)) out.set(k, blocked.get(k) ?? undefined), queue.push(k);
    }
  }

  const deletes = order([...out.keys()], (k) => applied.get(k)!.depKeys.filter((d) => out.has(d)))
    .reverse()
    .map((key): PlannedOp => ({ key, operation: 'delete', depKeys: [], pending: desired.has(key) ? (out.get(key) ?? undefined) : undefined }));

  const ready = [...desired.keys()].filter((k) => blocked.get(k) === null);
  const applies: PlannedOp[] = [];
  for (const key of order(ready, (k) => depKeys.get(k)!)) {
    const item = desired.get(key)!;
    const a = applied.get(key);
    if (!a || out.has(key)) applies.push({ key, operation: 'create', item, depKeys: depKeys.get(key)! });
    else if (!equivalent(item.descriptor, a.item.value, item.value)) applies.push({ key, operation: 'update', item, depKeys: depKeys.get(key)! });
  }

  const pending = new Map<string, string>();
  for (const [key, why] of blocked) if (why !== null && !hold.has(key)) pending.set(key, why);
  return { deletes, applies, pending };
}

/* Depth-first: each key after the keys it depends on. */
function order(keys: string[], depsOf: (key: string) => string[]): string[] {
  const done = new Set<string>();
  const result: string[] = [];
  const visit = (k: string) => {
    if (done.has(k)) return;
    done.add(k);
    for (const d of depsOf(k)) visit(d);
    result.push(k);
  };
  keys.forEach(visit);
  return result;
}
