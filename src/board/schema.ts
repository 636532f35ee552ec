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

/* The box's place in the fleet and how its agent reaches it (docs/mqtt.md). */
export interface AgentSettings {
  fleet: string; /* topic prefix vecgate/<fleet> */
  device: string;
  groups: string[]; /* layered in order; the device document overrides all */
  broker: string | null; /* null: no broker configured (the CLI may embed one) */
  stateDir: string; /* last applied document; relative paths are under the package root */
  trustAnchors: string[]; /* Ed25519 public keys (PEM files) that may sign documents */
  allowUnsigned: boolean;
  maxDocumentBytes: number;
  telemetry: string; /* node-cron expression, seconds field included */
  sampleDocument: string | null; /* published by an embedded broker (npm start); relative to the package root */
  /* mqtts: PEM files; ca checks the broker, cert and key are the box's identity to it. */
  tls: { ca?: string; cert?: string; key?: string };
}

export const AGENT_DEFAULTS: AgentSettings = {
  fleet: 'default',
  device: 'box',
  groups: [],
  broker: null,
  stateDir: '/var/lib/vecgate',
  trustAnchors: [],
  allowUnsigned: false,
  maxDocumentBytes: 1024 * 1024,
  telemetry: '*/10 * * * * *',
  sampleDocument: null,
  tls: {},
};

export interface Board {
  name: string;
  description: string;
  arch: (typeof BOARD_ARCHES)[number];
  dataplane: { options: string; variant: string };
  ports: Port[];
  console: { tty: string | null; baud?: number };
  agent: AgentSettings;
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

/* MQTT topic levels: no wildcards, separators or empty names. */
function topicLevel(v: unknown, field: string): string {
  const s = str(v, field)!;
  if (/[+#/\u0000]/.test(s)) fail(field, 'must not contain +, #, / or NUL (it is one MQTT topic level)');
  return s;
}

function tls(v: unknown): AgentSettings['tls'] {
  const t = object(v ?? {}, 'agent.tls', ['ca', 'cert', 'key']);
  const out: AgentSettings['tls'] = {};
  for (const k of ['ca', 'cert', 'key'] as const) if (t[k] !== undefined) out[k] = str(t[k], `agent.tls.${k}`)!;
  if ((out.cert === undefined) !== (out.key === undefined)) fail('agent.tls', 'cert and key go together');
  return out;
}

function agent(v: unknown): AgentSettings {
  const a = object(v ?? {}, 'agent', Object.keys(AGENT_DEFAULTS));
  const d = AGENT_DEFAULTS;
  if (a.groups !== undefined && !Array.isArray(a.groups)) fail('agent.groups', 'must be an array of group names');
  if (a.trustAnchors !== undefined && !Array.isArray(a.trustAnchors)) fail('agent.trustAnchors', 'must be an array of PEM file paths');
  if (a.allowUnsigned !== undefined && typeof a.allowUnsigned !== 'boolean') fail('agent.allowUnsigned', 'must be true or false');
  if (a.broker !== undefined && a.broker !== null && !/^(mqtts?|wss?|tcp|tls):\/\//.test(String(a.broker))) {
    fail('agent.broker', 'must be null or a URL mqtt://, mqtts://, ws:// or wss://');
  }
  return {
    fleet: a.fleet === undefined ? d.fleet : topicLevel(a.fleet, 'agent.fleet'),
    device: a.device === undefined ? d.device : topicLevel(a.device, 'agent.device'),
    groups: ((a.groups as unknown[] | undefined) ?? []).map((g, i) => topicLevel(g, `agent.groups[${i}]`)),
    broker: (a.broker as string | null | undefined) ?? d.broker,
    stateDir: str(a.stateDir, 'agent.stateDir', true) ?? d.stateDir,
    trustAnchors: ((a.trustAnchors as unknown[] | undefined) ?? []).map((t, i) => str(t, `agent.trustAnchors[${i}]`)!),
    allowUnsigned: (a.allowUnsigned as boolean | undefined) ?? d.allowUnsigned,
    maxDocumentBytes: int(a.maxDocumentBytes, 'agent.maxDocumentBytes', 1) ?? d.maxDocumentBytes,
    telemetry: str(a.telemetry, 'agent.telemetry', true) ?? d.telemetry,
    sampleDocument: a.sampleDocument === null ? null : (str(a.sampleDocument, 'agent.sampleDocument', true) ?? d.sampleDocument),
    tls: tls(a.tls),
  };
}

/* vg_dp_create options: may be empty, unlike the other strings. */
function options(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v !== 'string') fail('dataplane.options', 'must be a string');
  return v;
}

export function validateBoard(v: unknown): Board {
  const b = object(v, '', ['name', 'description', 'arch', 'dataplane', 'ports', 'console', 'agent']);
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
    agent: agent(b.agent),
  };
}
