/* vecgate run --board NAME: the runtime. The dataplane comes up with the
 * board's ports and the persisted configuration before any broker is
 * reached; then the agent follows the fleet over MQTT (or an embedded
 * broker when the board names none) until SIGINT or SIGTERM. */
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { Agent } from '../agent/agent';
import { applyHeapPolicy } from '../agent/memory';
import { createPorts } from '../board/apply';
import { loadBoard, stateDirOf } from '../board/load';
import { AgentSettings, Board, dataplaneCreateOptions } from '../board/schema';
import { Dataplane } from '../dataplane/dataplane';
import { cpuFamily, PACKAGE_ROOT } from '../dataplane/paths';
import { SummaryTracker } from '../dataplane/summary';
import { UsageError, VecgateError } from '../errors';
import { componentLogger, createLogger, LevelWithSilent, Logger, LOG_LEVELS, logRing } from '../log';
import type { TelemetrySchedule } from '../telemetry/schedule';
import { EmbeddedBroker, startEmbeddedBroker } from '../transport/broker';
import type { LinkTls } from '../transport/mqtt';
import { readTls } from '../transport/tls';
import { sdNotify, startWatchdog } from '../systemd/notify';
import { packageVersion } from './package-info';

const SUMMARY_INTERVAL_S = 10;

function parse(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      board: { type: 'string' },
      'log-level': { type: 'string' },
      variant: { type: 'string' },
      'summary-interval': { type: 'string' },
      broker: { type: 'string' },
      fleet: { type: 'string' },
      device: { type: 'string' },
      group: { type: 'string', multiple: true },
      'state-dir': { type: 'string' },
      'embedded-port': { type: 'string' },
      'no-telemetry': { type: 'boolean' },
      telemetry: { type: 'string' },
      'cli-socket': { type: 'string' },
      'console-tty': { type: 'string' },
      'console-baud': { type: 'string' },
    },
  });
  if (!values.board) throw new UsageError('run needs --board NAME|PATH');
  const level = values['log-level'] ?? 'info';
  if (!LOG_LEVELS.includes(level)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const interval = Number(values['summary-interval'] ?? SUMMARY_INTERVAL_S);
  if (!(interval > 0)) throw new UsageError('--summary-interval must be a positive number of seconds');
  const embeddedPort = Number(values['embedded-port'] ?? 1883);
  if (!Number.isInteger(embeddedPort) || embeddedPort < 0 || embeddedPort > 65535) throw new UsageError('--embedded-port must be a port number');
  const baud = values['console-baud'] === undefined ? undefined : Number(values['console-baud']);
  if (baud !== undefined && !(Number.isInteger(baud) && baud > 0)) throw new UsageError('--console-baud must be a baud rate (115200)');
  return { ...values, board: values.board, level: level as LevelWithSilent, interval, embeddedPort, baud };
}

type RunOptions = ReturnType<typeof parse>;

/* The board's agent settings with the command line's overrides. */
function settings(board: Board, o: RunOptions): AgentSettings {
  const a = board.agent;
  return {
    ...a,
    fleet: o.fleet ?? a.fleet,
    device: o.device ?? a.device,
    groups: o.group ?? a.groups,
    telemetry: o.telemetry ?? a.telemetry,
    broker: o.broker === 'none' ? null : (o.broker ?? a.broker),
    stateDir: stateDirOf(board, o['state-dir']),
  };
}

function waitForSignal(): { stopped: Promise<NodeJS.Signals>; cancel(): void } {
  let on: (sig: NodeJS.Signals) => void = () => {};
  const cancel = () => {
    process.off('SIGINT', on);
    process.off('SIGTERM', on);
  };
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    on = (sig: NodeJS.Signals) => {
      cancel();
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
  return { stopped, cancel };
}

/* The dataplane forwards when it runs and its loop turns: the nodes' call
 * counters (input nodes are polled on every turn) grow between two looks. */
function forwardingProbe(dp: () => Dataplane): () => boolean {
  let last = -1;
  return () => {
    const d = dp();
    if (!d.isRunning()) return false;
    const calls = d.runtime().reduce((sum, n) => sum + n.calls, 0);
    const turning = last >= 0 && calls > last;
    last = calls;
    return turning;
  };
}

interface OtaRuntime {
  client: import('../ota/client').OtaClient;
  parts: import('../ota/board').BoardOta;
  /* Resolves when the client asks for a restart on a board whose "reboot" is this process starting again (the file chooser). */
  restart: Promise<string>;
}

/* OTA, when the board has slots: the client follows …/ota/job. A restart
 * is a real reboot on a board with firmware; on the file chooser (sim,
 * tests) it is this process stopping, the simulated firmware choosing the
 * slot, and the runtime starting again. */
async function startOta(
  agent: Agent,
  board: Board,
  s: AgentSettings,
  anchors: import('../transport/cose').TrustAnchor[],
  tls: LinkTls | undefined,
  log: Logger,
): Promise<OtaRuntime | undefined> {
  const { boardOta } = require('../ota/board') as typeof import('../ota/board');
  const ota = boardOta(board, s.stateDir);
  if (!ota) return undefined;
  const { OtaClient } = require('../ota/client') as typeof import('../ota/client');
  let restartNow: (why: string) => void = () => {};
  const restart = new Promise<string>((resolve) => (restartNow = resolve));
  const forwarding = forwardingProbe(() => agent.dataplane);
  const client = new OtaClient({
    device: s.device,
    store: ota.store,
    chooser: ota.chooser,
    anchors,
    allowUnsigned: s.allowUnsigned,
    board: board.name,
    arch: ota.arch,
    slots: ota.slots,
    publish: (r) => agent.publish(agent.topics.otaState, r, true),
    health: () => ({ forwarding: forwarding(), ...agent.health() }),
    reboot: async (why) => {
      if (ota.chooser.kind === 'file') return restartNow(why);
      const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
      const r = spawnSync('systemctl', ['reboot'], { stdio: 'inherit' });
      if (r.status !== 0) spawnSync('reboot', [], { stdio: 'inherit' });
    },
    /* The fleet's CA and the box's certificate serve its update server too. */
    http: tls,
    log: log.child({ component: 'ota' }),
  });
  agent.on('topic', (m: import('../transport/mqtt').LinkMessage) => {
    if (m.topic === agent.topics.otaJob) client.onJob(m.payload);
  });
  agent.on('up', () => void client.report());
  await client.start();
  return { client, parts: ota, restart };
}

/* With no broker anywhere, one in this process, holding the board's sample
 * document as the device's retained config, so a newcomer sees it apply. */
async function embeddedBroker(s: AgentSettings, port: number, log: Logger): Promise<EmbeddedBroker> {
  const broker = await startEmbeddedBroker('127.0.0.1', port);
  log.info({ url: broker.url }, `no broker configured: embedded broker on ${broker.url}`);
  if (s.sampleDocument) {
    const file = path.resolve(PACKAGE_ROOT, s.sampleDocument);
    const { readDocumentFile, encodeCbor } = require('../transport/codec') as typeof import('../transport/codec');
    const { document, bytes } = readDocumentFile(file);
    const topic = `vecgate/${s.fleet}/device/${s.device}/config`;
    await broker.publish(topic, bytes ?? encodeCbor(document), true);
    log.info({ topic, file }, 'sample document published; try: vecgate config push <file> --device ' + s.device + ` --fleet ${s.fleet}`);
  }
  return broker;
}

interface Consoles {
  close(): Promise<void>;
}

/* The console on the board's tty (or --console-tty) and on the ctl socket
 * (or --cli-socket); "none" turns either off. Loaded after the box forwards. */
async function startConsoles(agent: Agent, board: Board, opts: RunOptions, log: Logger, ota?: OtaRuntime): Promise<Consoles> {
  const { Console } = require('../console/console') as typeof import('../console/console');
  const { listenCtl, DEFAULT_CTL_SOCKET } = require('../console/ctl-server') as typeof import('../console/ctl-server');
  const { SerialConsole } = require('../console/serial') as typeof import('../console/serial');
  const startedAt = Date.now() - Math.round(process.uptime() * 1000);
  const con = new Console({ dataplane: () => agent.dataplane, agent, logs: logRing(), board: board.name, startedAt, ...(ota ? { ota: () => ota.client.snapshot() } : {}) });
  const socketPath = opts['cli-socket'] ?? DEFAULT_CTL_SOCKET;
  const tty = opts['console-tty'] ?? board.console.tty;
  /* The box forwards without it: a socket that cannot be made is a warning. */
  const ctl =
    socketPath === 'none'
      ? undefined
      : await listenCtl(con, path.resolve(socketPath), log).catch((e: Error) => {
          log.warn({ socket: socketPath, err: e.message }, 'console socket not available (vecgate ctl will not reach this process; --cli-socket PATH chooses another)');
          return undefined;
        });
  let serial: import('../console/serial').SerialConsole | undefined;
  try {
    if (tty && tty !== 'none') {
      serial = SerialConsole.open(con, {
        path: tty,
        baud: opts.baud ?? board.console.baud ?? 115200,
        banner: `vecgate ${packageVersion()} on ${board.name}: type ? for help, Tab to complete`,
        log,
      });
    }
  } catch (e) {
    await ctl?.close();
    throw e;
  }
  return {
    close: async () => {
      serial?.close();
      await ctl?.close();
    },
  };
}

export async function runCommand(args: string[]): Promise<number> {
  applyHeapPolicy();
  const opts = parse(args);
  const root = createLogger({ level: opts.level });
  const log = componentLogger(root, 'run');
  const board = loadBoard(opts.board);
  if (board.arch !== 'any' && board.arch !== cpuFamily()) {
    throw new VecgateError('BOARD_ARCH', `board ${board.name} is for ${board.arch}, this machine is ${cpuFamily()}`);
  }
  const s = settings(board, opts);
  /* cose (and cbor-x) only when the board has anchors: they are not on the way to forwarding otherwise. */
  const anchors = s.trustAnchors.length ? (require('../transport/cose') as typeof import('../transport/cose')).loadBoardAnchors(s.trustAnchors, PACKAGE_ROOT) : [];
  // Precedence: --variant, then VECGATE_VARIANT, then the board's policy.
  const variant = opts.variant ?? process.env.VECGATE_VARIANT ?? board.dataplane.variant;
  const boardLog = componentLogger(root, 'board');
  const openDataplane = () => {
    const dp = Dataplane.open({ variant, options: dataplaneCreateOptions(board) });
    try {
      createPorts(dp, board.ports, boardLog);
    } catch (e) {
      dp.close();
      throw e;
    }
    return dp;
  };
  const agent = new Agent({
    ...s,
    anchors,
    openDataplane,
    unmanagedInterfaces: board.ports.map((p) => p.name),
    agentVersion: packageVersion(),
    log: componentLogger(root, 'agent'),
  });
  let broker: EmbeddedBroker | undefined;
  let telemetry: TelemetrySchedule | undefined;
  let consoles: Consoles | undefined;
  let tracker: SummaryTracker;
  let stopWatchdog = () => {};
  let cancelSignals = () => {};
  let ota: OtaRuntime | undefined;
  let restartWhy: string | undefined;
  try {
    const v = agent.dataplane.variantInfo;
    log.info({ board: board.name, variant: v.variant, pinned: v.pinned, library: v.libraryPath, buffers: agent.dataplane.bufferBacking() }, `dataplane ${v.variant} open`);
    const booted = agent.boot();
    log.info({ startupMs: Math.round(process.uptime() * 1000), persisted: booted !== undefined, stateDir: s.stateDir }, 'forwarding');
    agent.settleAfterBoot();
    // systemd (Type=notify, WatchdogSec=): ready once forwarding; fed while the dataplane runs.
    sdNotify(`READY=1\nSTATUS=forwarding on ${board.name} (${v.variant})`);
    stopWatchdog = startWatchdog(
      () => agent.dataplane.isRunning(),
      (e) => log.warn({ err: e.message }, 'systemd watchdog not fed'),
    );
    const signals = waitForSignal();
    cancelSignals = signals.cancel;
    if (!s.broker) broker = await embeddedBroker(s, opts.embeddedPort, log);
    const tls = readTls(s.tls, PACKAGE_ROOT);
    ota = await startOta(agent, board, s, anchors, tls, componentLogger(root, 'ota'));
    agent.connect({ url: s.broker ?? broker!.url, tls, subscribe: ota ? [agent.topics.otaJob] : [] });
    if (!opts['no-telemetry']) {
      /* systeminformation and node-cron load after the box forwards. */
      const { TelemetrySchedule } = require('../telemetry/schedule') as typeof import('../telemetry/schedule');
      telemetry = new TelemetrySchedule(agent.dataplane, { log: componentLogger(root, 'telemetry') });
      telemetry.start(s.telemetry, async (sample) => void (await agent.publish(agent.topics.telemetry, sample)));
    }
    consoles = await startConsoles(agent, board, opts, componentLogger(root, 'console'), ota);
    tracker = new SummaryTracker(agent.dataplane);
    const stats = componentLogger(root, 'stats');
    const timer = setInterval(() => stats.info(tracker.sample(), 'counters'), opts.interval * 1000);
    const ending = await Promise.race([signals.stopped.then((signal) => ({ signal, restart: undefined })), ota ? ota.restart.then((why) => ({ signal: undefined, restart: why })) : new Promise<never>(() => {})]);
    restartWhy = ending.restart;
    clearInterval(timer);
    log.info(ending.signal ? { signal: ending.signal } : { restart: ending.restart }, 'stopping');
    ota?.client.stop();
    stopWatchdog();
    sdNotify('STOPPING=1');
    telemetry?.stop();
    await consoles.close();
    await agent.stop();
    await broker?.close();
    agent.dataplane.stop();
    log.info(tracker.sample(), 'final counters');
  } finally {
    cancelSignals();
    ota?.client.stop();
    stopWatchdog();
    telemetry?.stop();
    await consoles?.close();
    agent.closeDataplane();
  }
  if (restartWhy !== undefined && ota) {
    const { simulateBoot } = require('../ota/boot-chooser') as typeof import('../ota/boot-chooser');
    const slot = await simulateBoot(ota.parts.chooser);
    log.warn({ slot, why: restartWhy }, 'restarting: the simulated firmware booted slot ' + slot);
    return runCommand(args);
  }
  log.info('dataplane destroyed, exiting');
  return 0;
}
