/* The desired-configuration document: { version, items: { "<kind>/<name>": value } }.
 * Validation is all or nothing: every bad item is named, and one bad item
 * refuses the whole document. */
import { Registry } from '../scheduler/registry';
import { ConfigError, FieldError, FieldProblem, int, object } from './check';

export interface ConfigDocument {
  version: number;
  items: Record<string, unknown>;
}

/* The items as the kinds' typed values, by key. */
export interface ValidDocument {
  version: number;
  items: Map<string, { kind: string; value: unknown }>;
}

/* Items of a raw document are a plain object; of a validated one, a Map. */
export function isValidDocument(doc: unknown): doc is ValidDocument {
  return typeof doc === 'object' && doc !== null && (doc as ValidDocument).items instanceof Map;
}

export function validateDocument(doc: unknown, registry: Registry): ValidDocument {
  const problems: FieldProblem[] = [];
  const items = new Map<string, { kind: string; value: unknown }>();
  let version = 0;
  try {
    const o = object(doc, 'document', ['version', 'items']);
    version = int(o.version ?? -1, 'version', 0, Number.MAX_SAFE_INTEGER)!;
    const raw = o.items ?? {};
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new FieldError('items', 'must be an object');
    for (const [key, value] of Object.entries(raw)) {
      try {
        items.set(key, validateItem(key, value, registry));
      } catch (e) {
        if (!(e instanceof FieldError)) throw e;
        problems.push({ path: e.path, reason: e.reason });
      }
    }
  } catch (e) {
    if (!(e instanceof FieldError)) throw e;
    problems.push({ path: e.path, reason: e.reason });
  }
  if (problems.length) throw new ConfigError(problems);
  return { version, items };
}

/* JSON.stringify only for keys that need escaping: the common key is plain. */
const PLAIN_KEY = /^[^"\\\u0000-\u001f\u007f-\uffff]*$/;

function validateItem(key: string, value: unknown, registry: Registry): { kind: string; value: unknown } {
  const path = PLAIN_KEY.test(key) ? `items["${key}"]` : `items[${JSON.stringify(key)}]`;
  const slash = key.indexOf('/');
  const kind = slash < 0 ? key : key.slice(0, slash);
  const name = slash < 0 ? '' : key.slice(slash + 1);
  const d = registry.kind(kind);
  if (!d) throw new FieldError(path, `unknown kind ${kind} (known: ${registry.kindNames().join(', ')})`);
  d.validateName!(slash < 0 ? [] : name.split('/'), path);
  return { kind, value: d.validate!(value, path, name) };
}
