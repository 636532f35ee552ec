/* vecgate ota install|status|boot|serve on a box with file-backed slots:
 * separate processes, as an operator on the serial console has them. */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { CLI, testDir, vecgate } from '../helpers';
import { fileSha256, makeBundle, makeImage, makeKeys } from '../ota/fixture';

const run = (args: string[]) => vecgate(args, { VECGATE_SLOT: '' });

describe('cli: vecgate ota install, status, boot, serve', function () {
  this.timeout(60_000);
  const dir = testDir('ota-cli');
  let board: string;
  let pub: string;
  let v2: Awaited<ReturnType<typeof makeBundle>>;
  let v1: Awaited<ReturnType<typeof makeBundle>>;
  const state = path.join(dir, 'state');
  const slotA = path.join(dir, 'slot-a');
  const slotB = path.join(dir, 'slot-b');

  before(async () => {
    const keys = makeKeys();
    pub = path.join(dir, 'fleet.pub.pem');
    fs.writeFileSync(pub, keys.publicPem);
    v2 = await makeBundle(dir, keys, { version: '2.0.0', securityVersion: 2, bytes: 2_500_000 });
    v1 = await makeBundle(dir, keys, { version: '1.0.0', securityVersion: 1 });
    makeImage(dir, 'slot-a', 100_000);
    const sim = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'board', 'sim.json'), 'utf8'));
    sim.ota = { ...sim.ota, slots: { A: slotA, B: slotB }, env: path.join(dir, 'chooser.json'), tries: 2 };
    sim.agent = { ...sim.agent, trustAnchors: [pub] };
    board = path.join(dir, 'board.json');
    fs.writeFileSync(board, JSON.stringify(sim));
  });

  /* A board of its own: its own boot chooser and slot B (slot A is shared, read only). */
  function boardNo(n: number): string {
    const b = JSON.parse(fs.readFileSync(board, 'utf8'));
    b.ota.env = path.join(dir, `chooser${n}.json`);
    b.ota.slots = { A: slotA, B: path.join(dir, `slot-b${n}`) };
    const file = path.join(dir, `board${n}.json`);
    fs.writeFileSync(file, JSON.stringify(b));
    return file;
  }

  it('installs a file into the slot not running and has the next boot try it; status shows it', async () => {
    const r = await run(['ota', 'install', v2.file, '--board', board, '--state-dir', state, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.slot, 'B');
    assert.equal(out.version, '2.0.0');
    assert.ok(out.mbPerSecond > 0);
    assert.equal(fileSha256(slotB), v2.sha256);
    const s = await run(['ota', 'status', '--board', board, '--state-dir', state]);
    assert.equal(s.status, 0, s.stderr);
    assert.match(s.stdout, /running slot A, primary A, trying B \(0 of 2 boots\)/);
    assert.match(s.stdout, /slot B .*vecgate-runtime 2\.0\.0, security version 2/);
    assert.match(s.stdout, /last install: job cli-.*2\.0\.0 into slot B: switched/);
    const b = await run(['ota', 'boot', '--board', board, '--state-dir', state]);
    assert.equal(b.stdout.trim(), 'B');
    /* On trial and not committed: a second install must wait for the health check. */
    const again = await run(['ota', 'install', v1.file, '--board', board, '--state-dir', state]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /slot B is on trial and not yet committed/);
    assert.equal(fileSha256(slotB), v2.sha256);
  });

  it('refuses a bundle that does not verify, with the reason, and leaves the slots alone', async () => {
    const other = makeKeys('other');
    const otherPub = path.join(dir, 'other.pub.pem');
    fs.writeFileSync(otherPub, other.publicPem);
    const fresh = path.join(dir, 'state2');
    const b2 = boardNo(2);
    const r = await run(['ota', 'install', v1.file, '--board', b2, '--state-dir', fresh, '--trust', otherPub]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /OTA_SIGNATURE: signature does not verify/);
    assert.ok(!fs.existsSync(path.join(dir, 'slot-b2')), 'slot B was not touched');
    const missing = await run(['ota', 'install', path.join(dir, 'nope.vgb'), '--board', b2, '--state-dir', fresh]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /nope\.vgb: ENOENT/);
    const st = await run(['ota', 'status', '--board', b2, '--state-dir', fresh, '--json']);
    assert.deepEqual((({ primary, trial }) => ({ primary, trial }))(JSON.parse(st.stdout)), { primary: 'A', trial: null });
  });

  it('draws a progress bar on a terminal', function () {
    if (spawnSync('script', ['--version']).status !== 0) this.skip();
    const fresh = path.join(dir, 'state3');
    const cmd = [process.execPath, CLI, 'ota', 'install', v2.file, '--board', boardNo(3), '--state-dir', fresh].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, VECGATE_SLOT: '' } });
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, /\r\[#{30}\] 100\.0%  2\.5\/2\.5 MB/);
    assert.match(r.stdout, /installed vecgate-runtime 2\.0\.0 \(security version 2, 2\.5 MB\) into slot B/);
  });

  it('serves bundles over HTTP with Range, and installs from the URL', async () => {
    const server = spawn(process.execPath, [CLI, 'ota', 'serve', dir, '--port', '0']);
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout.on('data', (d) => {
          out += d;
          const m = /on (http:\/\/[\d.:]+)\//.exec(out);
          if (m) resolve(m[1]!);
        });
        server.on('exit', () => reject(new Error(`ota serve exited: ${out}`)));
      });
      const res = await fetch(`${url}/${v1.name}`, { headers: { range: 'bytes=100-' } });
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), `bytes 100-${fs.statSync(v1.file).size - 1}/${fs.statSync(v1.file).size}`);
      await res.arrayBuffer();
      const r = await run(['ota', 'install', `${url}/${v1.name}`, '--board', boardNo(4), '--state-dir', path.join(dir, 'state4')]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(fileSha256(path.join(dir, 'slot-b4')), v1.sha256);
    } finally {
      server.kill('SIGTERM');
    }
  });
});
