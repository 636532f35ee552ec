/* vecgate ota install|status|boot|serve: OTA on the box itself. install
 * puts a bundle (URL or file) into the slot that is not running and has the
 * boot chooser try it at the next boot, through the same code and journal
 * as the agent's jobs, so `vecgate run` does the health check and the
 * commit (or the rollback) after that boot. status shows the slots and the
 * last install; boot is the file chooser's firmware step (sim board, tests);
 * serve is a Range-capable HTTP server for bundles (a lab, the bench). */
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { loadBoard, stateDirOf } from '../board/load';
import { Board } from '../board/schema';
import { PACKAGE_ROOT } from '../dataplane/paths';
import { UsageError, VecgateError } from '../errors';
import { BoardOta, requireBoardOta } from '../ota/board';
import { bootedSlot, simulateBoot } from '../ota/boot-chooser';
import { openSource } from '../ota/download';
import { DEFAULT_HEALTH_SECONDS } from '../ota/job';
import { installBundle, InstallProgress, switchToTrial } from '../ota/install';
import { loadBoardAnchors, TrustAnchor } from '../transport/cose';
import { readTls } from '../transport/tls';
import { trustAnchors } from './ota';

function boardAndState(values: { board?: string; 'state-dir'?: string }): { board: Board; ota: BoardOta } {
  if (!values.board) throw new UsageError('needs --board NAME|PATH (its ota section names the slots and the boot chooser)');
  const board = loadBoard(values.board);
  return { board, ota: requireBoardOta(board, stateDirOf(board, values['state-dir'])) };
}

/* --trust as `ota verify` takes it, else the board's anchors. */
function anchorsOf(board: Board, trust: string | undefined): TrustAnchor[] {
  if (trust) return trustAnchors(trust);
  if (!board.agent.trustAnchors.length) throw new UsageError(`board ${board.name} lists no trust anchors (agent.trustAnchors): give --trust PUB.pem`);
  return loadBoardAnchors(board.agent.trustAnchors, PACKAGE_ROOT);
}

const MB = 1e6;

/* One line redrawn in place on a terminal. */
function progressBar(out: NodeJS.WriteStream, started: number): (p: InstallProgress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < 100 && p.bytes < p.total) return;
    last = now;
    const frac = p.total ? p.bytes / p.total : 0;
    const width = 30;
    const filled = Math.round(frac * width);
    const rate = p.bytes / MB / Math.max((now - started) / 1000, 0.001);
    const what = p.phase === 'verifying' ? 'reading back' : 'verified';
    out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(1).padStart(5)}%  ${(p.bytes / MB).toFixed(1)}/${(p.total / MB).toFixed(1)} MB ${what}  ${rate.toFixed(0)} MB/s `);
  };
}

async function install(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      board: { type: 'string' },
      'state-dir': { type: 'string' },
      trust: { type: 'string' },
      'health-seconds': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (positionals.length !== 1) throw new UsageError('ota install needs one bundle: a URL (http://, https://) or a file');
  const where = positionals[0]!;
  const { board, ota } = boardAndState(values);
  const anchors = anchorsOf(board, values.trust);
  const healthSeconds = values['health-seconds'] === undefined ? DEFAULT_HEALTH_SECONDS : Number(values['health-seconds']);
  if (!Number.isInteger(healthSeconds) || healthSeconds < 1 || healthSeconds > 3600) throw new UsageError('--health-seconds must be 1 to 3600');
  const state = await ota.chooser.read();
  const booted = bootedSlot(state);
  if (state.trial !== null && state.trial === booted) {
    throw new VecgateError('OTA_BUSY', `slot ${booted} is on trial and not yet committed: let the running agent's health check finish first`);
  }
  const started = Date.now();
  const tty = process.stderr.isTTY && !values.json;
  const job = { id: `cli-${new Date(started).toISOString()}`, url: where, healthSeconds };
  let journal;
  try {
    journal = await installBundle({
      store: ota.store,
      chooser: ota.chooser,
      anchors,
      board: board.name,
      arch: ota.arch,
      slots: ota.slots,
      booted,
      source: openSource(where, readTls(board.agent.tls, PACKAGE_ROOT)),
      job,
      onProgress: tty ? progressBar(process.stderr, started) : undefined,
    });
  } finally {
    if (tty) process.stderr.write('\n');
  }
  journal = await switchToTrial(ota.store, ota.chooser, journal);
  const seconds = (Date.now() - started) / 1000;
  const b = journal.bundle!;
  if (values.json) {
    process.stdout.write(JSON.stringify({ slot: journal.slot, from: booted, version: b.version, securityVersion: b.securityVersion, bytes: b.size, seconds, mbPerSecond: b.size / MB / seconds }) + '\n');
  } else {
    process.stdout.write(
      `installed ${b.name} ${b.version} (security version ${b.securityVersion}, ${(b.size / MB).toFixed(1)} MB) into slot ${journal.slot} in ${seconds.toFixed(1)} s; ` +
        `the next boot tries it (${state.limit} boot${state.limit === 1 ? '' : 's'} at most); vecgate run commits it after its health check (${healthSeconds} s)\n`,
    );
  }
  return 0;
}

async function status(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { board: { type: 'string' }, 'state-dir': { type: 'string' }, json: { type: 'boolean' } } });
  const { ota } = boardAndState(values);
  const st = await ota.chooser.read();
  const booted = bootedSlot(st);
  const slots = ota.store.slots();
  const journal = ota.store.journal();
  const out = { booted, chooser: ota.chooser.kind, ...st, slots: slots.slots, securityFloor: slots.securityFloor, last: journal };
  if (values.json) {
    process.stdout.write(JSON.stringify(out) + '\n');
    return 0;
  }
  const lines = [`boot chooser ${ota.chooser.kind}: running slot ${booted}, primary ${st.primary}${st.trial ? `, trying ${st.trial} (${st.tries} of ${st.limit} boots)` : ''}${st.fellBack ? `, fell back from ${st.fellBack}` : ''}`];
  for (const s of ['A', 'B'] as const) {
    const r = slots.slots[s];
    lines.push(`  slot ${s} (${ota.slots[s]}): ${r ? `${r.name} ${r.version}, security version ${r.securityVersion}, ${r.size} bytes, sha256 ${r.sha256.slice(0, 16)}…` : 'no record (factory image, or overwritten)'}`);
  }
  lines.push(`  security floor ${slots.securityFloor}`);
  if (journal) lines.push(`last install: job ${journal.job.id}, ${journal.bundle?.version ?? '?'} into slot ${journal.slot}: ${journal.phase}${journal.error ? ` (${journal.error.code}: ${journal.error.reason})` : ''}`);
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

async function boot(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { board: { type: 'string' }, 'state-dir': { type: 'string' } } });
  const { ota } = boardAndState(values);
  if (ota.chooser.kind !== 'file') throw new VecgateError('OTA_BOOT_ENV', `ota boot simulates the firmware of the file chooser; this board's firmware runs ${ota.chooser.kind === 'uboot-env' ? 'ota/boot.cmd' : 'ota/grub.cfg'} itself`);
  process.stdout.write(`${await simulateBoot(ota.chooser)}\n`);
  return 0;
}

async function serve(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { port: { type: 'string' }, host: { type: 'string' } } });
  if (positionals.length !== 1) throw new UsageError('ota serve needs the folder that holds the bundles');
  const { BundleServer } = require('../ota/serve') as typeof import('../ota/serve');
  const server = new BundleServer(path.resolve(positionals[0]!));
  server.logRequests = false;
  await server.listen(Number(values.port ?? 8080), values.host ?? '127.0.0.1');
  process.stdout.write(`serving ${path.resolve(positionals[0]!)} on http://${values.host ?? '127.0.0.1'}:${server.port}/ (Ctrl-C stops)\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await server.close();
  return 0;
}

export const BOX_SUBCOMMANDS = { install, status, boot, serve };
