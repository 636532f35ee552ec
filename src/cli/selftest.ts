/* vecgate selftest [--board NAME|PATH] [--variant V] [--packets N] [--json]:
 * forwards generator streams through the IPv4 and L2 paths and checks the
 * counters. One line on stdout (PASS or FAIL and why), exit 0 or 1. A board
 * lends its variant policy and pools, not its ports: no NIC, no root. A bad
 * board or option is the CLI's usual error on stderr. */
import { parseArgs } from 'node:util';

import { loadBoard } from '../board/load';
import { cpuFamily } from '../dataplane/paths';
import { UsageError, VecgateError } from '../errors';
import { runSelftest, SelftestResult, verdict } from '../selftest/selftest';

export function selftestCommand(args: string[]): number {
  const { values } = parseArgs({
    args,
    options: {
      board: { type: 'string' },
      variant: { type: 'string' },
      packets: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const packets = values.packets === undefined ? undefined : Number(values.packets);
  if (packets !== undefined && !Number.isInteger(packets)) throw new UsageError('--packets must be a number of packets');
  const board = values.board === undefined ? undefined : loadBoard(values.board);
  if (board && board.arch !== 'any' && board.arch !== cpuFamily()) {
    throw new VecgateError('BOARD_ARCH', `board ${board.name} is for ${board.arch}, this machine is ${cpuFamily()}`);
  }
  // Precedence as in run: --variant, then VECGATE_VARIANT, then the board's policy.
  const variant = values.variant ?? process.env.VECGATE_VARIANT ?? board?.dataplane.variant;
  let result: SelftestResult;
  try {
    result = runSelftest({ variant, options: board?.dataplane.options, packets });
  } catch (e) {
    if (!(e instanceof VecgateError) || e.code === 'SELFTEST_OPTION') throw e;
    const line = `selftest FAIL: ${e.message}`;
    process.stdout.write((values.json ? JSON.stringify({ ok: false, error: { code: e.code, message: e.message } }) : line) + '\n');
    return 1;
  }
  process.stdout.write((values.json ? JSON.stringify({ ...result, board: board?.name ?? null, verdict: verdict(result) }) : verdict(result)) + '\n');
  return result.ok ? 0 : 1;
}
