/* Shared by the tests: they use the real native build, never a mock. */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { PACKAGE_ROOT } from '../src/dataplane/paths';

export const CLI = path.join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js');

/* `vecgate ARGS` as a separate process, as an operator runs it; `env` adds to (or, as '', blanks) the environment. */
export function vecgate(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

/* A short finite stream through the drop chain: pg -> ethernet-input -> drop. */
export function dropStream(name: string, count: number): string {
  return `name=${name} size=64 count=${count} eth.src=02:00:00:00:00:01 eth.dst=02:00:00:00:00:02 eth.type=0x0800 ip4.src=10.0.0.1 ip4.dst=10.1.0.1 l4=udp udp.sport=1 udp.dport=2`;
}

/* Tests choose their own variant; an operator's pin must not leak in. */
export function withoutVariantPin(): void {
  delete process.env.VECGATE_VARIANT;
  delete process.env.VECGATE_NATIVE_BUILD;
}

/* The best x86 variant this CPU runs, judged from /proc/cpuinfo: a witness
 * independent of the probe's cpuid reading. */
export function bestVariantFromCpuinfo(): string {
  const flags = new Set(
    (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '').trim().split(/\s+/),
  );
  const all = (names: string[]) => names.every((n) => flags.has(n));
  if (all(['avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl', 'avx2', 'bmi2', 'fma'])) return 'x86_64-v4';
  if (all(['avx2', 'bmi1', 'bmi2', 'fma', 'f16c', 'movbe'])) return 'x86_64-v3';
  return 'x86_64-v2';
}

/* A private directory under the system's temporary one, removed when the
 * test process exits (pass or fail). */
const tempDirs: string[] = [];
export function testDir(prefix: string): string {
  if (!tempDirs.length) process.once('exit', () => tempDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vecgate-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}
