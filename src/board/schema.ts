/* The board file (board/<name>.json): what this box's dataplane owns and how.
 * Validation names the exact field that is wrong, as a JSON path. */
import { SpecError } from '../errors';
import { formatPgSpec, PgStreamSpec } from '../dataplane/pg-spec';
import { array, fail, ifName, int, Json, object, str } from './check';
import { checkBudget, cpu, CpuSpec, memory, MemorySpec, ota, OtaSpec, variantPolicy, workers } from './platform';

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

/* A NIC the dataplane owns: AF_PACKET with mmapped rings on the Linux
 * interface hostIf (the kernel keeps the device, the dataplane its traffic). */
export interface AfPacketPort {
  type: 'af_packet';
  name: string;
  hostIf: string;
  options?: string; /* vg_af_packet_create options */
  description?: string;
}

/* A TAP device hostIf that the dataplane creates: the host's view of a port. */
export interface TapPort {
  type: 'tap';
  name: string;
  hostIf: string;
  options?: string;
  description?: string;
}

export type Port = PgPort | PcapPort | AfPacketPort | TapPort;
export const PORT_TYPES = ['pg', 'pcap', 'af_packet', 'tap'] as const;

/* A NIC that stays with Linux (ssh, the fleet's broker, OTA downloads). */
export interface ManagementNic {
  hostIf: string;
  description?: string;
}

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
  cpu: CpuSpec;
  /* variant: "auto" or a pinned variant; workers: cores of the dataplane threads. */
  dataplane: { options: string; variant: string; workers: number[] };
  ports: Port[];
  management: ManagementNic[];
  console: { tty: string | null; baud?: number };
  ota: OtaSpec;
  memory: MemorySpec;
  agent: AgentSettings;
}

export const BOARD_SECTIONS = ['name', 'description', 'arch', 'cpu', 'dataplane', 'ports', 'management', 'console', 'ota', 'memory', 'agent'];

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
  if (type === 'af_packet' || type === 'tap') {
    const p = object(v, field, ['type', 'name', 'hostIf', 'options', 'description']);
    return {
      type,
      name: str(p.name, `${field}.name`)!,
      hostIf: ifName(p.hostIf, `${field}.hostIf`),
      ...(p.options === undefined ? {} : { options: str(p.options, `${field}.options`)! }),
      ...(p.description === undefined ? {} : { description: str(p.description, `${field}.description`)! }),
    };
  }
  fail(`${field}.type`, `must be one of ${PORT_TYPES.join(', ')}, not ${JSON.stringify(type)}`);
}

function management(v: unknown): ManagementNic[] {
  return array(v, 'management', 'NICs left to Linux').map((m, i) => {
    const o = object(m, `management[${i}]`, ['hostIf', 'description']);
    const nic: ManagementNic = { hostIf: ifName(o.hostIf, `management[${i}].hostIf`) };
    if (o.description !== undefined) nic.description = str(o.description, `management[${i}].description`)!;
    return nic;
  });
}

/* A NIC is the dataplane's or Linux's, never both, and each port has one name. */
function checkOwnership(ports: Port[], mgmt: ManagementNic[]): void {
  const names = new Set<string>();
  const hostIfs = new Map<string, string>();
  ports.forEach((p, i) => {
    if (names.has(p.name)) fail(`ports[${i}].name`, `duplicate port name ${p.name}`);
    names.add(p.name);
    if (p.type !== 'af_packet' && p.type !== 'tap') return;
    const other = hostIfs.get(p.hostIf);
    if (other) fail(`ports[${i}].hostIf`, `${p.hostIf} is already owned by port ${other}`);
    hostIfs.set(p.hostIf, p.name);
  });
  mgmt.forEach((m, i) => {
    const owner = hostIfs.get(m.hostIf);
    if (owner) fail(`management[${i}].hostIf`, `${m.hostIf} is owned by the dataplane (port ${owner}); a management NIC stays with Linux`);
  });
}

/* threads and cpus come from dataplane.workers, once. */
function options(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v !== 'string') fail('dataplane.options', 'must be a string');
  if (/(^|\s)(threads|cpus)=/.test(v)) fail('dataplane.options', 'threads and cpus come from dataplane.workers, not the options');
  return v;
}

/* The vg_dp_create options for this board: its options and its worker cores. */
export function dataplaneCreateOptions(board: Board): string {
  const w = board.dataplane.workers;
  const threads = w.length ? `threads=${w.length} cpus=${w.join(',')}` : '';
  return [board.dataplane.options, threads].filter(Boolean).join(' ');
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

export function validateBoard(v: unknown): Board {
  const b = object(v, '', BOARD_SECTIONS);
  const arch = b.arch ?? 'any';
  if (!BOARD_ARCHES.includes(arch as Board['arch'])) fail('arch', `must be one of ${BOARD_ARCHES.join(', ')}`);
  const c = cpu(b.cpu);
  const dp = object(b.dataplane ?? {}, 'dataplane', ['options', 'variant', 'workers']);
  if (!Array.isArray(b.ports)) fail('ports', 'must be an array');
  const ports = b.ports.map((p, i) => port(p, `ports[${i}]`));
  const mgmt = management(b.management);
  checkOwnership(ports, mgmt);
  const con = object(b.console ?? {}, 'console', ['tty', 'baud']);
  if (con.tty !== null && con.tty !== undefined) str(con.tty, 'console.tty');
  const dataplane = { options: options(dp.options), variant: variantPolicy(dp.variant, arch as string), workers: workers(dp.workers, c.cores) };
  const mem = memory(b.memory);
  checkBudget(mem, dataplane.options);
  return {
    name: str(b.name, 'name')!,
    description: str(b.description, 'description', true) ?? '',
    arch: arch as Board['arch'],
    cpu: c,
    dataplane,
    ports,
    management: mgmt,
    console: { tty: (con.tty as string | null | undefined) ?? null, baud: int(con.baud, 'console.baud', 1) },
    ota: ota(b.ota),
    memory: mem,
    agent: agent(b.agent),
  };
}
