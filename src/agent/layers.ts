/* Group and device documents are layers of one desired configuration:
 * groups in the board's order, then the device, each overriding the items
 * of the layers below it by key. A null item removes that key from the
 * layers below (a device that must not have one of its group's routes). */
import { createHash } from 'node:crypto';

import { ConfigError, FieldError, int, object } from '../models/check';
import { ValidDocument, validateDocument } from '../models/document';
import { Registry } from '../scheduler/registry';
import { SourceSummary } from './store';

export interface Layer {
  source: string; /* 'group/<name>' or 'device' */
  version: number;
  sha256: string;
  valid: ValidDocument['items']; /* the non-null items, validated */
  removes: string[]; /* the null items: keys taken out of the layers below */
  commitConfirmSeconds?: number;
  signedBy?: string;
}

export const MAX_COMMIT_CONFIRM_SECONDS = 24 * 3600;

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/* Checks one received layer whole (ConfigError with every bad path):
 * { version, items, commitConfirm?: { seconds } }. Its items must be valid
 * on their own; whether they fit together is checked on the merge. */
export function parseLayer(source: string, doc: unknown, bytes: Uint8Array, registry: Registry, signedBy?: string): Layer {
  let o: Record<string, unknown>;
  let commitConfirmSeconds: number | undefined;
  try {
    o = object(doc, 'document', ['version', 'items', 'commitConfirm']);
    if (o.commitConfirm !== undefined) {
      const cc = object(o.commitConfirm, 'commitConfirm', ['seconds']);
      commitConfirmSeconds = int(cc.seconds ?? -1, 'commitConfirm.seconds', 1, MAX_COMMIT_CONFIRM_SECONDS);
    }
  } catch (e) {
    if (e instanceof FieldError) throw new ConfigError([{ path: e.path, reason: e.reason }]);
    throw e;
  }
  const raw = o.items ?? {};
  const present: Record<string, unknown> = {};
  const removes: string[] = [];
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    for (const [k, v] of Object.entries(raw)) {
      if (v === null) removes.push(k);
      else present[k] = v;
    }
  }
  const valid = validateDocument({ version: o.version, items: typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? present : raw }, registry);
  return {
    source,
    version: o.version as number,
    sha256: sha256(bytes),
    valid: valid.items,
    removes,
    ...(commitConfirmSeconds !== undefined ? { commitConfirmSeconds } : {}),
    ...(signedBy !== undefined ? { signedBy } : {}),
  };
}

/* The merged document, of items validated when their layer arrived:
 * version is the device layer's (0 without one); each layer's own version
 * is in the sources. */
export function mergeLayers(order: readonly string[], layers: ReadonlyMap<string, Layer>): { valid: ValidDocument; sources: SourceSummary[] } {
  const validItems: ValidDocument['items'] = new Map();
  const sources: SourceSummary[] = [];
  for (const source of order) {
    const layer = layers.get(source);
    if (!layer) continue;
    sources.push({ source, version: layer.version, sha256: layer.sha256 });
    for (const key of layer.removes) validItems.delete(key);
    for (const [key, item] of layer.valid) validItems.set(key, item);
  }
  return { valid: { version: layers.get('device')?.version ?? 0, items: validItems }, sources };
}

export function sameSources(a: readonly SourceSummary[], b: readonly SourceSummary[]): boolean {
  return a.length === b.length && a.every((s, i) => s.source === b[i]!.source && s.sha256 === b[i]!.sha256);
}

