/* vecgate run --board NAME: bring the board's dataplane up and keep it
 * forwarding until SIGINT or SIGTERM, then stop and free it cleanly. */
import { parseArgs } from 'node:util';

import { createPorts } from '../board/apply';
import { loadBoard } from '../board/load';
import { Dataplane } from '../dataplane/dataplane';
import { cpuFamily } from '../dataplane/paths';
import { SummaryTracker } from '../dataplane/summary';
import { UsageError, VecgateError } from '../errors';
import { componentLogger, createLogger, LevelWithSilent, LOG_LEVELS } from '../log';

const SUMMARY_INTERVAL_S = 10;

function parse(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      board: { type: 'string' },
      'log-level': { type: 'string' },
      variant: { type: 'string' },
      'summary-interval': { type: 'string' },
    },
  });
  if (!values.board) throw new UsageError('run needs --board NAME|PATH');
  const level = values['log-level'] ?? 'info';
  if (!LOG_LEVELS.includes(level)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const interval = Number(values['summary-interval'] ?? SUMMARY_INTERVAL_S);
  if (!(interval > 0)) throw new UsageError('--summary-interval must be a positive number of seconds');
  return { board: values.board, level: level as LevelWithSilent, variant: values.variant, interval };
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export async function runCommand(args: string[]): Promise<number> {
  const opts = parse(args);
  const root = createLogger({ level: opts.level });
  const log = componentLogger(root, 'run');
  const board = loadBoard(opts.board);
  if (board.arch !== 'any' && board.arch !== cpuFamily()) {
    throw new VecgateError('BOARD_ARCH', `board ${board.name} is for ${board.arch}, this machine is ${cpuFamily()}`);
  }
  // Precedence: --variant, then VECGATE_VARIANT, then the board's policy.
  const variant = opts.variant ?? process.env.VECGATE_VARIANT ?? board.dataplane.variant;
  const dp = Dataplane.open({ variant, options: board.dataplane.options });
  try {
    const v = dp.variantInfo;
    log.info(
      { board: board.name, variant: v.variant, pinned: v.pinned, library: v.libraryPath, buffers: dp.bufferBacking() },
      `dataplane ${v.variant} open, buffers backed by ${dp.bufferBacking()}`,
    );
    const ports = createPorts(dp, board.ports, componentLogger(root, 'board'));
    const stopped = waitForSignal();
    const tracker = new SummaryTracker(dp);
    dp.start();
    log.info({ ports: ports.map((p) => p.name) }, 'dataplane running');
    const stats = componentLogger(root, 'stats');
    const timer = setInterval(() => stats.info(tracker.sample(), 'counters'), opts.interval * 1000);
    const signal = await stopped;
    clearInterval(timer);
    log.info({ signal }, 'stopping');
    dp.stop();
    log.info(tracker.sample(), 'final counters');
  } finally {
    dp.close();
  }
  log.info('dataplane destroyed, exiting');
  return 0;
}
