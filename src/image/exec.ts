/* Runs a build tool; a failure names the step, the command and its output. */
import { spawnSync } from 'node:child_process';

import { VecgateError } from '../errors';

export function run(cmd: string, args: string[], opts: { what: string; cwd?: string; env?: NodeJS.ProcessEnv }): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new VecgateError('IMAGE_TOOL', `${opts.what}: ${cmd} is not installed`);
  }
  if (r.status !== 0) {
    const out = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').slice(-8).join('\n');
    throw new VecgateError('IMAGE_TOOL', `${opts.what}: ${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${out}`);
  }
  return r.stdout;
}
