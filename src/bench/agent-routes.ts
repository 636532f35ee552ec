/* agent-routes: the agent as a fleet sees it, as separate processes.
 *  - applySeconds: from publishing a document with `routes` routes to the
 *    state report that says they are applied (a real broker: mosquitto when
 *    installed, else the embedded one, in this process);
 *  - coldStartSeconds: `vecgate run` started with the broker unreachable,
 *    until it logs that it forwards with the persisted document applied;
 *  - rssMB: the agent's resident memory 1 s after that start (and
 *    rssIdleMB, after a start with no configuration).
 * The routes go over a loopback sink's neighbor, as in ip4-forward. */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import mqtt from 'mqtt';

import { NODE_FLAGS, PROCESS_ENV } from '../cli/process-options';
import { StateReport } from '../agent/state-report';
import { ip4Text, ip4ToNumber } from '../dataplane/dataplane';
import { PACKAGE_ROOT } from '../dataplane/paths';
import { VecgateError } from '../errors';
import { startEmbeddedBroker } from '../transport/broker';
import { decodeCbor, encodeCbor } from '../transport/codec';
import { Topics } from '../transport/topics';
import { haveMosquitto, Mosquitto } from './mosquitto';
import { BenchOptions } from './scenario';

const DEFAULT_ROUTES = 10_000;
const MAX_ROUTES = 1_000_000;
const CLI = path.join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js');
const FLEET = 'bench';
const DEVICE = 'agent-routes';

export interface AgentBenchResult {
  [figure: string]: unknown;
  scenario: string;
  routes: number;
  broker: string;
  applySeconds: number;
  coldStartSeconds: number;
  coldStartProcessSeconds: number; /* the agent's own uptime at that point */
  rssMB: number; /* 1 s after the cold start, 10,000 routes applied */
  rssAnonMB: number;
  rssFileMB: number;
  rssIdleMB: number; /* after a start with no configuration, connected */
  documentBytes: number;
  variant: string;
}

export function routesDocument(routes: number, version: number): { version: number; items: Record<string, unknown> } {
  const items: Record<string, unknown> = {
    'interfaces/sink0': { type: 'loopback', addresses: ['192.168.255.1/24'] },
    'neighbors/sink0/192.168.255.2': { mac: '02:00:00:00:ff:02' },
  };
  const first = ip4ToNumber('1.0.0.0');
  const hop = [{ via: '192.168.255.2', interface: 'sink0' }];
  for (let i = 0; i < routes; i++) items[`routes/0/${ip4Text(first + i * 256)}/24`] = { nextHops: hop };
  return { version, items };
}

/* mosquitto when the machine has it (the peer a fleet runs), else aedes here. */
export async function startBroker(): Promise<{ url: string; name: string; stop: () => Promise<void> }> {
  if (haveMosquitto()) {
    const m = await Mosquitto.start();
    return { url: m.url, name: 'mosquitto', stop: () => m.close() };
  }
  const b = await startEmbeddedBroker('127.0.0.1', 0);
  return { url: b.url, name: 'aedes (embedded)', stop: () => b.close() };
}

interface Agent {
  child: ChildProcess;
  startedAt: bigint;
  forwarding: Promise<{ at: bigint; startupMs: number }>;
}

function startAgent(broker: string, stateDir: string, variant?: string): Agent {
  const args = [CLI, 'run', '--board', 'sim', '--broker', broker, '--fleet', FLEET, '--device', DEVICE, '--state-dir', stateDir, '--no-telemetry', '--summary-interval', '3600'];
  if (variant) args.push('--variant', variant);
  const startedAt = process.hrtime.bigint();
  /* Started as a box's launcher starts it (src/cli/process-options.ts). */
  const child = spawn(process.execPath, [...NODE_FLAGS, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...PROCESS_ENV, VECGATE_LOG_LEVEL: 'info' } });
  const forwarding = new Promise<{ at: bigint; startupMs: number }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (!line.includes('"msg":"forwarding"')) return;
      resolve({ at: process.hrtime.bigint(), startupMs: (JSON.parse(line) as { startupMs: number }).startupMs });
    });
    child.once('exit', (code) => reject(new VecgateError('BENCH_AGENT', `vecgate run exited with ${code} before forwarding`)));
  });
  return { child, startedAt, forwarding };
}

async function stopAgent(a: Agent): Promise<void> {
  if (a.child.exitCode !== null) return;
  const gone = new Promise((r) => a.child.once('exit', r));
  a.child.kill('SIGTERM');
  await gone;
}

/* Resident memory in MB: all of it, the process's own (anonymous) and the
 * file pages (mostly the node binary, shared with any other node process). */
export function rss(pid: number): { total: number; anon: number; file: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
  return { total: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
}

const seconds = (from: bigint, to: bigint) => Number(to - from) / 1e9;

export async function agentRoutes(opts: BenchOptions): Promise<AgentBenchResult> {
  const routes = opts.routes ?? DEFAULT_ROUTES;
  if (!Number.isInteger(routes) || routes < 1 || routes > MAX_ROUTES) throw new VecgateError('BENCH_OPTION', `--routes must be 1..${MAX_ROUTES}`);
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vecgate-bench-agent-'));
  const broker = await startBroker();
  const topics = new Topics(FLEET, DEVICE);
  const client = await mqtt.connectAsync(broker.url, { clientId: `bench-${process.pid}` });
  let agent: Agent | undefined;
  try {
    await client.publishAsync(topics.deviceConfig, Buffer.alloc(0), { qos: 1, retain: true });
    await client.subscribeAsync(topics.state, { qos: 1 });
    const states: StateReport[] = [];
    let waiter: (() => void) | undefined;
    client.on('message', (_t, payload) => {
      if (payload.length) states.push(decodeCbor(payload) as StateReport);
      waiter?.();
    });
    const until = (ok: (s: StateReport) => boolean, ms = 60_000) =>
      new Promise<StateReport>((resolve, reject) => {
        const timer = setTimeout(() => reject(new VecgateError('BENCH_TIMEOUT', `no matching state within ${ms} ms`)), ms);
        const check = () => {
          const s = states.find(ok);
          if (!s) return;
          clearTimeout(timer);
          waiter = undefined;
          resolve(s);
        };
        waiter = check;
        check();
      });

    agent = startAgent(broker.url, stateDir, opts.variant);
    await agent.forwarding;
    await until((s) => s.seq >= 1); /* connected and reported (no document yet) */
    const rssIdleMB = rss(agent.child.pid!).total;
    const doc = encodeCbor(routesDocument(routes, 1));
    const t0 = process.hrtime.bigint();
    await client.publishAsync(topics.deviceConfig, doc, { qos: 1, retain: true });
    const applied = await until((s) => s.version === 1);
    const applySeconds = seconds(t0, process.hrtime.bigint());
    if ((applied.counts.CONFIGURED ?? 0) < routes) throw new VecgateError('BENCH_APPLY', `only ${applied.counts.CONFIGURED} items configured: ${JSON.stringify(applied.counts)}`);
    await stopAgent(agent);

    /* Cold start: nothing listens on port 1, so the persisted document is all it has. */
    agent = startAgent('mqtt://127.0.0.1:1', stateDir, opts.variant);
    const fwd = await agent.forwarding;
    const coldStartSeconds = seconds(agent.startedAt, fwd.at);
    await new Promise((r) => setTimeout(r, 1000));
    const mem = rss(agent.child.pid!);
    return {
      scenario: 'agent-routes',
      routes,
      broker: broker.name,
      applySeconds,
      coldStartSeconds,
      coldStartProcessSeconds: fwd.startupMs / 1000,
      rssMB: mem.total,
      rssAnonMB: mem.anon,
      rssFileMB: mem.file,
      rssIdleMB,
      documentBytes: doc.length,
      variant: applied.image.variant,
    };
  } finally {
    if (agent) await stopAgent(agent);
    await client.publishAsync(topics.deviceConfig, Buffer.alloc(0), { qos: 1, retain: true }).catch(() => undefined);
    await client.endAsync();
    await broker.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}
