/* The boot chooser: which slot (A or B) the firmware boots, and the trial of
 * a new slot a bounded number of times before it falls back. One interface,
 * one store per kind: a JSON file (sim board, tests), the U-Boot environment
 * (fw_printenv/fw_setenv from libubootenv-tool) and the GRUB environment
 * block (grub-editenv). All three hold the same variables, and the rules the
 * firmware applies at each boot are ota/boot.cmd, ota/grub.cfg and, for the
 * file chooser, simulateBoot() below (ota/README.md, "Slots and boot
 * choosers"). Every write changes all its variables at once and survives a
 * kill or a power cut at any point. */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { fsyncDir, writeFileAtomic } from '../atomic-file';
import type { OtaSpec } from '../board/platform';
import { VecgateError } from '../errors';

const readFile = promisify(fs.readFile);

export type Slot = 'A' | 'B';

export interface BootState {
  primary: Slot; /* the committed slot, booted when no trial is pending */
  trial: Slot | null; /* the slot being tried (upgrade_available=1), else null */
  tries: number; /* boots of the trial so far (bootcount) */
  limit: number; /* boots allowed before falling back (bootlimit = board ota.tries) */
  fellBack: Slot | null; /* the last trial the firmware gave up on; cleared by startTrial/commit */
  booted?: Slot | null; /* the slot simulateBoot() last booted (vecgate_booted), if any */
}

export interface BootChooser {
  readonly kind: 'file' | 'uboot-env' | 'grub-env';
  read(): Promise<BootState>;
  startTrial(slot: Slot): Promise<void>;
  commit(slot: Slot): Promise<void>;
  cancelTrial(): Promise<void>;
}

/* The variables, named as U-Boot's bootcount feature names its own. */
export const VARS = {
  primary: 'vecgate_slot',
  trial: 'vecgate_trial',
  fellBack: 'vecgate_fellback',
  upgrade: 'upgrade_available',
  count: 'bootcount',
  limit: 'bootlimit',
  booted: 'vecgate_booted',
} as const;

/* boot.cmd and grub.cfg count with a ladder of string comparisons (GRUB has
 * no arithmetic), so a trial gets at most this many boots. */
export const MAX_TRIES = 9;

/* A boot chooser's tool failed, or its state cannot be used. */
export class BootChooserError extends VecgateError {
  readonly tool: string | null;
  readonly env: string;
  readonly stderr: string;

  constructor(code: string, env: string, message: string, tool: string | null = null, stderr = '', options?: { cause?: unknown }) {
    super(code, message, options);
    this.tool = tool;
    this.env = env;
    this.stderr = stderr;
  }
}

/* The environment as the firmware sees it: names to strings, '' = unset. */
type Env = Record<string, string>;

interface EnvStore {
  readonly where: string;
  load(): Promise<Env>;
  save(changes: Env): Promise<void>; /* every change in one atomic write */
}

const isSlot = (v: string | undefined): v is Slot => v === 'A' || v === 'B';

function stateOf(env: Env, limit: number): BootState {
  const [primary, trialVar, fellBack, booted] = [env[VARS.primary], env[VARS.trial], env[VARS.fellBack], env[VARS.booted]];
  const trial = env[VARS.upgrade] === '1' && isSlot(trialVar) ? trialVar : null;
  const count = Number(env[VARS.count]);
  const envLimit = Number(env[VARS.limit]);
  return {
    primary: isSlot(primary) ? primary : 'A',
    trial,
    tries: trial && Number.isInteger(count) && count >= 0 ? count : 0,
    limit: trial && Number.isInteger(envLimit) && envLimit > 0 ? envLimit : limit,
    fellBack: isSlot(fellBack) ? fellBack : null,
    booted: isSlot(booted) ? booted : null,
  };
}

class Chooser implements BootChooser {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly kind: BootChooser['kind'],
    readonly store: EnvStore,
    private readonly limit: number,
  ) {}

  read(): Promise<BootState> {
    return this.serial(async () => stateOf(await this.store.load(), this.limit));
  }

  async startTrial(slot: Slot): Promise<void> {
    checkSlot(slot);
    return this.serial(() =>
      this.store.save({
        [VARS.upgrade]: '1',
        [VARS.trial]: slot,
        [VARS.count]: '0',
        [VARS.limit]: String(this.limit),
        [VARS.fellBack]: '',
      }),
    );
  }

  async commit(slot: Slot): Promise<void> {
    checkSlot(slot);
    return this.serial(() =>
      this.store.save({ [VARS.primary]: slot, [VARS.upgrade]: '0', [VARS.trial]: '', [VARS.count]: '0', [VARS.fellBack]: '' }),
    );
  }

  cancelTrial(): Promise<void> {
    return this.serial(async () => {
      const state = stateOf(await this.store.load(), this.limit);
      if (!state.trial) return;
      await this.store.save({ [VARS.upgrade]: '0', [VARS.trial]: '', [VARS.count]: '0', [VARS.fellBack]: state.trial });
    });
  }

  /* The firmware's step: boot.cmd and grub.cfg in TypeScript. */
  boot(): Promise<Slot> {
    return this.serial(async () => {
      const env = await this.store.load();
      const { changes, slot } = firmwareStep(env);
      await this.store.save({ ...changes, [VARS.booted]: slot });
      return slot;
    });
  }

  /* One operation at a time, so a read-modify-write (cancelTrial, boot)
   * never interleaves with another write from this process. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/* ota/boot.cmd and ota/grub.cfg, rule for rule. */
export function firmwareStep(env: Env): { changes: Env; slot: Slot } {
  const changes: Env = {};
  if (!env[VARS.primary]) changes[VARS.primary] = 'A'; /* a blank env is saved once with its default */
  const primary: Slot = env[VARS.primary] === 'B' ? 'B' : 'A';
  if (env[VARS.upgrade] !== '1') return { changes, slot: primary };
  const count = env[VARS.count] || '0';
  const trial = env[VARS.trial];
  const next = /^[0-8]$/.test(count) ? String(Number(count) + 1) : null;
  const limit = env[VARS.limit] ?? '';
  /* one digit each, compared as the scripts do: `test a "<" b` */
  if (isSlot(trial) && next !== null && /^[1-9]$/.test(limit) && count < limit) {
    changes[VARS.count] = next;
    return { changes, slot: trial };
  }
  Object.assign(changes, { [VARS.upgrade]: '0', [VARS.fellBack]: trial ?? '', [VARS.trial]: '', [VARS.count]: '0' });
  return { changes, slot: primary };
}

function checkSlot(slot: string): asserts slot is Slot {
  if (!isSlot(slot)) throw new VecgateError('OTA_SLOT_INVALID', `slot ${JSON.stringify(slot)} is not A or B`);
}

/* ---- file: a JSON object of the same variables ---- */

class FileStore implements EnvStore {
  constructor(readonly where: string) {}

  async load(): Promise<Env> {
    let text: string;
    try {
      text = await readFile(this.where, 'utf8'); /* not fs.promises: its module (and readline, which it loads) stays out of a box that only reads */
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new BootChooserError('OTA_BOOT_ENV', this.where, `cannot read the boot chooser file ${this.where}: ${(e as Error).message}`, null, '', { cause: e });
    }
    if (text.trim() === '') return {};
    try {
      const obj = JSON.parse(text) as unknown;
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new Error('not a JSON object');
      return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, String(v ?? '')]));
    } catch (e) {
      throw new BootChooserError('OTA_BOOT_ENV', this.where, `the boot chooser file ${this.where} is corrupt: ${(e as Error).message}`, null, '', { cause: e });
    }
  }

  async save(changes: Env): Promise<void> {
    const env = { ...(await this.load()), ...changes };
    for (const [k, v] of Object.entries(env)) if (v === '') delete env[k];
    writeFileAtomic(this.where, JSON.stringify(env, null, 2) + '\n', 0o644);
  }
}


/* ---- tools ---- */

interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

function runTool(tool: string, args: string[], where: string): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = e.code === 'ENOENT' ? `${tool} is not installed (${TOOL_PACKAGE[tool] ?? 'its package'})` : `${tool}: ${e.message}`;
      reject(new BootChooserError('OTA_BOOT_TOOL', where, `${why}; env ${where}`, tool, '', { cause: e }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

const TOOL_PACKAGE: Record<string, string> = {
  fw_printenv: 'libubootenv-tool',
  fw_setenv: 'libubootenv-tool',
  'grub-editenv': 'grub-common',
};

function toolFailed(tool: string, where: string, r: ToolResult): BootChooserError {
  const err = r.stderr.trim() || `exit status ${r.code}`;
  return new BootChooserError('OTA_BOOT_TOOL', where, `${tool} failed on env ${where}: ${err}`, tool, r.stderr);
}

function parseLines(text: string): Env {
  const env: Env = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && !line.startsWith('#')) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

/* ---- uboot-env: fw_printenv / fw_setenv -c CONFIG ---- */

class UbootStore implements EnvStore {
  readonly where: string;

  constructor(
    readonly config: string,
    env: string | null,
  ) {
    this.where = env ?? config;
  }

  async load(): Promise<Env> {
    const r = await runTool('fw_printenv', ['-c', this.config], this.where);
    if (r.code === 0) return parseLines(r.stdout);
    /* A blank (never saved, bad CRC) env with no default env file reads as
     * empty; anything else (no device, a bad config) is an error. */
    if (/Cannot read environment/.test(r.stderr) && /Cannot read default environment/.test(r.stderr)) return {};
    throw toolFailed('fw_printenv', this.where, r);
  }

  /* One fw_setenv call for all variables: libubootenv writes them in one
   * environment image (with a redundant env, by switching copies). "name="
   * in a script deletes the variable. On a blank env fw_setenv refuses
   * unless libubootenv has a default env (/etc/u-boot-initial-env), rather
   * than write an env that lacks U-Boot's bootcmd. */
  async save(changes: Env): Promise<void> {
    const script = Object.entries(changes)
      .map(([k, v]) => `${k}=${v}\n`)
      .join('');
    /* A file, not /dev/stdin: Node's stdin pipe is a socket, which
     * fw_setenv cannot open by that name. */
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'vecgate-fw_setenv-'));
    try {
      const file = path.join(dir, 'script');
      await fs.promises.writeFile(file, script);
      const r = await runTool('fw_setenv', ['-c', this.config, '-s', file], this.where);
      if (r.code !== 0) throw toolFailed('fw_setenv', this.where, r);
    } finally {
      await fs.promises.rm(dir, { recursive: true, force: true });
    }
  }
}

/* VECGATE_FW_ENV_CONFIG, else fw_env.config beside the board's env, else
 * libubootenv's own /etc/fw_env.config. */
export function fwEnvConfig(envPath: string | null, env: NodeJS.ProcessEnv = process.env): string {
  if (env.VECGATE_FW_ENV_CONFIG) return env.VECGATE_FW_ENV_CONFIG;
  if (envPath) {
    const beside = path.join(path.dirname(envPath), 'fw_env.config');
    if (fs.existsSync(beside)) return beside;
  }
  return '/etc/fw_env.config';
}

/* ---- grub-env: grub-editenv FILE set a=1 b=2 … ---- */

class GrubStore implements EnvStore {
  constructor(readonly where: string) {}

  async load(): Promise<Env> {
    if (!fs.existsSync(this.where)) return {};
    const r = await runTool('grub-editenv', [this.where, 'list'], this.where);
    if (r.code !== 0) throw toolFailed('grub-editenv', this.where, r);
    return parseLines(r.stdout);
  }

  /* grub-editenv rewrites a block in place (truncate, write, fsync), so it
   * edits a copy, and the copy replaces the block by rename: GRUB finds the
   * file by name at each boot. '' is written as an empty value because
   * unsetting would need a second call; grub.cfg reads both alike. */
  async save(changes: Env): Promise<void> {
    const tmp = `${this.where}.tmp-${process.pid}`;
    try {
      if (fs.existsSync(this.where)) await fs.promises.copyFile(this.where, tmp);
      else await fs.promises.rm(tmp, { force: true });
      const sets = Object.entries(changes).map(([k, v]) => `${k}=${v}`);
      const r = await runTool('grub-editenv', [tmp, 'set', ...sets], this.where);
      if (r.code !== 0) throw toolFailed('grub-editenv', this.where, r);
      const fh = await fs.promises.open(tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fs.promises.rename(tmp, this.where);
      fsyncDir(path.dirname(this.where));
    } finally {
      await fs.promises.rm(tmp, { force: true });
    }
  }
}

/* ---- entry points ---- */

export function openBootChooser(ota: OtaSpec, opts: { baseDir?: string; env?: NodeJS.ProcessEnv } = {}): BootChooser {
  if (ota.tries > MAX_TRIES) {
    throw new VecgateError('OTA_TRIES', `ota.tries is ${ota.tries}: boot.cmd and grub.cfg count at most ${MAX_TRIES} boots of a trial`);
  }
  const envPath = ota.env === null ? null : path.resolve(opts.baseDir ?? process.cwd(), ota.env);
  switch (ota.bootChooser) {
    case 'file':
      if (!envPath) throw new VecgateError('OTA_BOOT_ENV', 'the file boot chooser needs ota.env (the file that holds its state)');
      return new Chooser('file', new FileStore(envPath), ota.tries);
    case 'uboot-env':
      return new Chooser('uboot-env', new UbootStore(fwEnvConfig(envPath, opts.env), envPath), ota.tries);
    case 'grub-env':
      if (!envPath) throw new VecgateError('OTA_BOOT_ENV', 'the grub-env boot chooser needs ota.env (the grubenv file)');
      return new Chooser('grub-env', new GrubStore(envPath), ota.tries);
  }
}

const CMDLINE_SLOT = /(?:^|\s)vecgate\.slot=([AB])(?=\s|$)/;

/* The slot running now: VECGATE_SLOT, else the kernel command line the
 * firmware wrote, else the file chooser's last simulated boot, else primary. */
export function bootedSlot(state: BootState, env: NodeJS.ProcessEnv = process.env, cmdline = '/proc/cmdline'): Slot {
  if (isSlot(env.VECGATE_SLOT)) return env.VECGATE_SLOT;
  try {
    const m = CMDLINE_SLOT.exec(fs.readFileSync(cmdline, 'utf8'));
    if (m) return m[1] as Slot;
  } catch {
    /* no /proc (not Linux, a sandbox): fall through */
  }
  return state.booted ?? state.primary;
}

/* The firmware's step for the file chooser (sim board, tests): the rules of
 * boot.cmd and grub.cfg, saved in one write with the slot it booted. */
export async function simulateBoot(chooser: BootChooser): Promise<Slot> {
  if (!(chooser instanceof Chooser)) throw new VecgateError('OTA_BOOT_ENV', 'simulateBoot needs a chooser from openBootChooser');
  return chooser.boot();
}
