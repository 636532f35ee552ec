/* The board file (board/<name>.json): what this box's dataplane owns and how.
 * Validation names the exact field that is wrong, as a JSON path. */
import { SpecError } from '../errors';
import { formatPgSpec, PgStreamSpec } from '../dataplane/pg-spec';

export const BOARD_ARCHES = ['any', 'x86_64', 'arm64', 'ppc64le'] as const;

export interface PgPort {
  type: 'pg';
  name: string; /* the generator's interface */
  stream: string; /* C spec string; the typed form is serialised on load */
}

export interface PcapPort {
  type: 'pcap';
  name: string;
  rx?: string;
  rxLoops?: number;
  tx?: string;
}

export type Port = PgPort | PcapPort;

export interface Board {
  name: string;
  description: string;
  arch: (typeof BOARD_ARCHES)[number];
  dataplane: { options: string; variant: string };
  ports: Port[];
  console: { tty: string | null; baud?: number };
}

type Json = Record<string, unknown>;

function fail(field: string, why: string): never {
  throw new SpecError(field, why, 'BOARD_INVALID');
}

function object(v: unknown, field: string, keys: string[]): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, 'must be an object');
  const unknown = Object.keys(v).find((k) => !keys.includes(k));
  if (unknown) fail(field ? `${field}.${unknown}` : unknown, `unknown field (known: ${keys.join(', ')})`);
  return v as Json;
}

function str(v: unknown, field: string, optional = false): string | undefined {
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v === '') fail(field, 'must be a non-empty string');
  return v;
}

function int(v: unknown, field: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || (v as number) < min) fail(field, `must be an integer >= ${min}`);
  return v as number;
}

function port(v: unknown, field: string): Port {
  const type = (v as Json | null)?.type;
  if (type === 'pg') {
    const p = object(v, field, ['type', 'name', 'stream']);
    const name = str(p.name, `${field}.name`)!;
    const s = p.stream;
    let stream: string;
    if (typeof s === 'object' && s !== null) {
      stream = withPrefix(`${field}.stream`, () => formatPgSpec({ if: name, ...(s as PgStreamSpec) }));
    } else {
      stream = str(s, `${field}.stream`)!;
    }
    return { type, name, stream: / if=/.test(` ${stream}`) ? stream : `${stream} if=${name}` };
  }
  if (type === 'pcap') {
    const p = object(v, field, ['type', 'name', 'rx', 'rxLoops', 'tx']);
    return {
      type,
      name: str(p.name, `${field}.name`)!,
      rx: str(p.rx, `${field}.rx`, true),
      rxLoops: int(p.rxLoops, `${field}.rxLoops`, 0),
      tx: str(p.tx, `${field}.tx`, true),
    };
  }
  fail(`${field}.type`, `must be "pg" or "pcap", not ${JSON.stringify(type)}`);
}

/* Re-roots a nested spec error under the board field that holds the spec. */
function withPrefix<T>(field: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SpecError) fail(`${field}.${e.field}`, e.reason);
    throw e;
  }
}

/* vg_dp_create options: may be empty, unlike the other strings. */
function options(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v !== 'string') fail('dataplane.options', 'must be a string');
  return v;
}

export function validateBoard(v: unknown): Board {
  const b = object(v, '', ['name', 'description', 'arch', 'dataplane', 'ports', 'console']);
  const arch = b.arch ?? 'any';
  if (!BOARD_ARCHES.includes(arch as Board['arch'])) fail('arch', `must be one of ${BOARD_ARCHES.join(', ')}`);
  const dp = object(b.dataplane ?? {}, 'dataplane', ['options', 'variant']);
  if (!Array.isArray(b.ports)) fail('ports', 'must be an array');
  const ports = b.ports.map((p, i) => port(p, `ports[${i}]`));
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    if (seen.has(p.name)) fail(`ports[${i}].name`, `duplicate port name ${p.name}`);
    seen.add(p.name);
  });
  const con = object(b.console ?? {}, 'console', ['tty', 'baud']);
  if (con.tty !== null && con.tty !== undefined) str(con.tty, 'console.tty');
  return {
    name: str(b.name, 'name')!,
    description: str(b.description, 'description', true) ?? '',
    arch: arch as Board['arch'],
    dataplane: {
      options: options(dp.options),
      variant: str(dp.variant, 'dataplane.variant', true) ?? 'auto',
    },
    ports,
    console: { tty: (con.tty as string | null | undefined) ?? null, baud: int(con.baud, 'console.baud', 1) },
  };
}
