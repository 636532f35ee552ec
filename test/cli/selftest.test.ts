/* vecgate selftest on this machine: the verdict line, the exit code, and
 * what a bad board or a variant the CPU lacks gives. (The images run it with
 * their bundled Node, under qemu-user for the other architectures:
 * test/images/.) */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { CLI, testDir } from '../helpers';

function selftest(args: string[], extra: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (!('VECGATE_VARIANT' in extra)) delete env.VECGATE_VARIANT;
  return spawnSync(process.execPath, [CLI, 'selftest', ...args], { encoding: 'utf8', env, timeout: 60_000 });
}

describe('cli/selftest', () => {
  it('passes with one line naming the variant and each path', () => {
    const r = selftest([]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^selftest PASS: x86_64-v[234] on x86_64, node v\d+\.\d+\.\d+: ip4 1000\/1000 forwarded, l2 1000\/1000 bridged, no-route 100\/100 dropped in \d+\.\d\d s\n$/);
  });

  it('--json carries the per-path counts and the verdict', () => {
    const r = selftest(['--json', '--packets', '20', '--board', 'sim']);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.ok, true);
    assert.equal(j.board, 'sim');
    assert.deepEqual(
      j.paths.map((p: { path: string; sent: number; got: number }) => [p.path, p.sent, p.got]),
      [['ip4', 20, 20], ['l2', 20, 20], ['no-route', 2, 2]],
    );
  });

  it('a pinned variant the CPU lacks is a FAIL verdict naming the missing feature', () => {
    const r = selftest(['--variant', 'x86_64-v3'], { VECGATE_CPU_HIDE: 'avx2' });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, 'selftest FAIL: cannot load dataplane variant x86_64-v3: this CPU lacks 1 required feature(s): avx2\n');
  });

  it('an unknown board, a bad board file and another architecture\'s board are clear errors', () => {
    const unknown = selftest(['--board', 'no-such']);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /^vecgate: unknown board no-such \(boards: arm64-neoverse, ppc64le-power9, rpi4, sim, x86-64-generic; or give a path to a board file\)\n$/);
    const file = path.join(testDir('selftest'), 'bad.json');
    const b = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'board', 'x86-64-generic.json'), 'utf8'));
    b.ports[1].type = 'wifi';
    fs.writeFileSync(file, JSON.stringify(b));
    const bad = selftest(['--board', file]);
    assert.equal(bad.status, 1);
    assert.equal(bad.stderr, `vecgate: ports[1].type: must be one of pg, pcap, af_packet, tap, not "wifi" (in ${file})\n`);
    const other = selftest(['--board', 'rpi4']);
    assert.equal(other.status, 1);
    assert.equal(other.stderr, 'vecgate: board rpi4 is for arm64, this machine is x86_64\n');
  });
});
