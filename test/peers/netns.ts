/* What the tests that build Linux hosts in network namespaces share: whether
 * this run may (root, the tools), and a shell step that fails loudly. */
import { spawnSync } from 'node:child_process';

export const isRoot = process.getuid?.() === 0;

export function hasCommands(...names: string[]): boolean {
  return spawnSync('sh', ['-c', names.map((n) => `command -v ${n}`).join(' && ')]).status === 0;
}

/* Why namespace tests skip here, or '' when they can run. */
export const netnsReason = !isRoot ? 'needs root' : !hasCommands('ip') ? 'needs iproute2 (ip)' : '';

/* Runs a shell command; its stdout, or an Error with its stderr. */
export function sh(cmd: string): string {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  return r.stdout;
}
