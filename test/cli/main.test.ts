import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';

import { bestVariantFromCpuinfo, CLI, testDir } from '../helpers';

const BEST = bestVariantFromCpuinfo();

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e = { ...process.env, ...extra };
  if (!('VECGATE_VARIANT' in extra)) delete e.VECGATE_VARIANT;
  return e;
}

function vecgate(args: string[], extra?: Record<string, string>) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: env(extra), timeout: 60_000 });
}

describe('cli/main', () => {
  it('version --json has the agreed shape', () => {
    const r = vecgate(['version', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const v = JSON.parse(r.stdout);
    assert.equal(v.version, '0.1.0');
    assert.equal(v.node, process.version);
    assert.equal(v.dataplane.variant, BEST);
    assert.deepEqual(
      [...v.dataplane.built].sort(),
      ['arm64-v8.2-crypto', 'arm64-v8a', 'ppc64le-power9', 'x86_64-v2', 'x86_64-v3', 'x86_64-v4'],
      'all six variants are built here (the cross compilers are installed)',
    );
    assert.ok(Array.isArray(v.dataplane.cpuFeatures) && v.dataplane.cpuFeatures.includes('avx2'));
  });

  it('version without --json is text', () => {
    const r = vecgate(['version']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^vecgate 0\\.1\\.0 .*\\ndataplane: ${BEST} `));
  });

  it('refuses a pinned variant of another family with one line and exit 1', () => {
    const r = vecgate(['version', '--json'], { VECGATE_VARIANT: 'arm64-v8a' });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^vecgate: cannot load dataplane variant arm64-v8a: .*\n$/);
  });

  it('a CPU without AVX-512 gets x86_64-v3, and a pin on v4 is refused naming what is missing', function () {
    if (BEST !== 'x86_64-v4') this.skip(); /* needs AVX-512 to take away */
    const hide = { VECGATE_CPU_HIDE: 'avx512f' };
    const best = vecgate(['version', '--json'], hide);
    assert.equal(best.status, 0, best.stderr);
    assert.equal(JSON.parse(best.stdout).dataplane.variant, 'x86_64-v3');
    const pinned = vecgate(['version', '--json'], { ...hide, VECGATE_VARIANT: 'x86_64-v4' });
    assert.equal(pinned.status, 1);
    assert.equal(pinned.stdout, '');
    assert.match(pinned.stderr, /^vecgate: cannot load dataplane variant x86_64-v4: this CPU lacks 1 required feature\(s\): avx512f\n$/);
  });

  it('bench --json reports the fields', () => {
    const r = vecgate(['bench', 'pg-ethernet', '--json', '--packets', '200000', '--warmup', '0']);
    assert.equal(r.status, 0, r.stderr);
    const b = JSON.parse(r.stdout);
    for (const k of ['scenario', 'variant', 'packets', 'seconds', 'mpps', 'nodes']) assert.ok(k in b, k);
    assert.equal(b.packets, 200000);
    assert.ok(b.mpps > 0);
    for (const n of b.nodes) for (const k of ['name', 'calls', 'vectors', 'clocksPerPacket']) assert.ok(k in n, k);
  });

  it('bench prints a runtime table without --json', () => {
    const r = vecgate(['bench', 'pg-ethernet', '--packets', '1000', '--warmup', '0']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Name\s+Calls\s+Vectors\s+Clocks\s+Vectors\/Call/);
  });

  it('an unknown scenario is a usage error listing the valid ones', () => {
    const r = vecgate(['bench', 'warp-drive']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown scenario warp-drive \(valid: .*pg-ethernet/);
  });

  it('unknown commands and options are usage errors', () => {
    assert.equal(vecgate(['frobnicate']).status, 2);
    assert.equal(vecgate(['version', '--bogus']).status, 2);
  });

  it('run --board sim starts, logs and exits 0 on SIGTERM', async () => {
    const stateDir = testDir('cli');
    const args = ['run', '--board', 'sim', '--summary-interval', '0.3', '--state-dir', stateDir, '--embedded-port', '0', '--no-telemetry'];
    const child = spawn(process.execPath, [CLI, ...args], { env: env() });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const lines = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const deadline = Date.now() + 10_000;
    while (!lines().some((l) => l.msg === 'counters' && l.rxPackets > 0)) {
      if (Date.now() > deadline || child.exitCode !== null) assert.fail(`no counters with traffic logged:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const started = Date.now();
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.on('exit', r));
    assert.equal(code, 0, out);
    assert.ok(Date.now() - started < 5000, 'stopped within a few seconds');
    const logged = lines();
    const open = logged.find((l) => l.msg.startsWith(`dataplane ${BEST} open`));
    assert.ok(open && ['hugetlb', 'thp', '4k'].includes(open.buffers), 'logs variant and buffer backing');
    assert.ok(logged.some((l) => l.component === 'board' && l.port?.name === 'pg0'), 'logs the ports');
    assert.ok(logged.some((l) => l.msg === 'dataplane destroyed, exiting'));
  });

  it('run without --board is a usage error', () => {
    assert.equal(vecgate(['run']).status, 2);
  });
});
