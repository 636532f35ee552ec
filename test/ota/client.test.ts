/* The OTA client's whole flow against a real HTTP server on loopback, with
 * file-backed slots and the file boot chooser: a "restart" is a new client
 * reading the journal after the simulated firmware chose a slot, which is
 * what a box does after a reboot. */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { Console } from '../../src/console/console';
import { createLogger } from '../../src/log';
import { simulateBoot, Slot } from '../../src/ota/boot-chooser';
import { HealthStatus, OtaClient, OtaStateReport } from '../../src/ota/client';
import { encodeCbor } from '../../src/transport/codec';
import { signSign1 } from '../../src/transport/cose';
import { testDir } from '../helpers';
import { BundleServer } from '../../src/ota/serve';
import { ARCH, BOARD, Box, fileSha256, Keys, makeBox, makeBundle, makeKeys, startServer } from './fixture';

const HEALTHY: HealthStatus = { forwarding: true, broker: true, config: true };

interface Run {
  client: OtaClient;
  reports: OtaStateReport[];
  reboots: string[];
}

describe('ota client', function () {
  this.timeout(60_000);
  let keys: Keys;
  let dir: string;
  let server: BundleServer;
  let v2: Awaited<ReturnType<typeof makeBundle>>;

  before(async () => {
    keys = makeKeys();
    dir = testDir('ota-bundles');
    server = await startServer(dir);
    v2 = await makeBundle(dir, keys, { version: '2.0.0', securityVersion: 2 });
  });
  after(async () => server.close());
  beforeEach(() => {
    server.faults = {};
    server.requests.length = 0;
  });

  function boot(box: Box, health: () => HealthStatus = () => HEALTHY, over: Partial<ConstructorParameters<typeof OtaClient>[0]> = {}): Run {
    const reports: OtaStateReport[] = [];
    const reboots: string[] = [];
    const client = new OtaClient({
      device: 'box1',
      store: box.store,
      chooser: box.chooser,
      anchors: [keys.anchor],
      allowUnsigned: true,
      board: BOARD,
      arch: ARCH,
      slots: box.slots,
      publish: (r) => void reports.push(r),
      reboot: async (why) => void reboots.push(why),
      health,
      log: createLogger({ level: 'silent', pretty: false }),
      retry: { minMs: 20, maxMs: 100 },
      healthPollMs: 50,
      env: {},
      ...over,
    });
    return { client, reports, reboots };
  }

  async function start(box: Box, health?: () => HealthStatus, over?: Partial<ConstructorParameters<typeof OtaClient>[0]>): Promise<Run> {
    const r = boot(box, health, over);
    await r.client.start();
    await r.client.idle();
    return r;
  }

  const job = (o: Record<string, unknown>) => encodeCbor({ id: 'job-1', url: server.url(v2.name), ...o });

  async function sendJob(r: Run, payload: Buffer): Promise<void> {
    r.client.onJob(payload);
    await r.client.idle();
  }

  /* The running slot (A, the factory image) must be as it was. */
  async function assertUntouched(box: Box): Promise<void> {
    assert.equal(fileSha256(box.slots.A), box.factorySha256, 'the running slot A was changed');
    const st = await box.chooser.read();
    assert.equal(st.primary, 'A');
    assert.equal(st.trial, null);
  }

  async function restart(box: Box, health?: () => HealthStatus): Promise<{ slot: Slot; run: Run }> {
    const slot = await simulateBoot(box.chooser);
    return { slot, run: await start(box, health) };
  }

  it('installs into the other slot, restarts into it, passes the health check and commits', async () => {
    const box = makeBox();
    const r1 = await start(box);
    await sendJob(r1, job({ version: '2.0.0' }));
    assert.equal(box.store.journal()?.phase, 'switched');
    assert.equal(r1.reboots.length, 1, 'one restart asked for');
    assert.equal(fileSha256(box.slots.B), v2.sha256, 'slot B holds the payload');
    assert.equal(fileSha256(box.slots.A), box.factorySha256);
    const st = await box.chooser.read();
    assert.deepEqual([st.primary, st.trial], ['A', 'B']);
    assert.ok(r1.reports.some((r) => r.phase === 'downloading' && r.progress && r.progress.total === fs.statSync(v2.image).size));
    assert.ok(r1.reports.some((r) => r.phase === 'switched' && r.version === '2.0.0' && r.slot === 'B'));

    const { slot, run: r2 } = await restart(box);
    assert.equal(slot, 'B');
    assert.equal(box.store.journal()?.phase, 'committed');
    const after = await box.chooser.read();
    assert.deepEqual([after.primary, after.trial], ['B', null]);
    const last = r2.reports.at(-1)!;
    assert.equal(last.phase, 'committed');
    assert.deepEqual(last.running, { slot: 'B', version: '2.0.0' });
    assert.equal(last.securityFloor, 2);
    assert.equal(r2.reboots.length, 0);
    /* And the next boot stays there. */
    assert.equal(await simulateBoot(box.chooser), 'B');

    /* The console says the same. */
    const con = new Console({ dataplane: () => assert.fail('show ota reads no dataplane'), startedAt: Date.now(), ota: () => r2.client.snapshot() });
    const shown = await con.run('show ota');
    assert.equal(shown.ok, true, shown.text);
    assert.match(shown.text, /running: +slot B \(2\.0\.0\)/);
    assert.match(shown.text, /slot A: +no record \(factory image, or being written\)\n/);
    assert.match(shown.text, /slot B: +2\.0\.0, security version 2 \(running\)/);
    assert.match(shown.text, /update: +job job-1: 2\.0\.0 into slot B: committed/);
    const none = await new Console({ dataplane: () => assert.fail(), startedAt: Date.now() }).run('show ota');
    assert.equal(none.ok, false);

    /* The same job again (retained, after a reconnect) installs nothing. */
    const before = server.requests.length;
    await sendJob(r2, job({ version: '2.0.0' }));
    assert.equal(server.requests.length, before);
    assert.equal(box.store.journal()?.phase, 'committed');
  });

  it('rolls back to the old slot when the health check fails, and says why', async () => {
    const box = makeBox();
    const r1 = await start(box);
    await sendJob(r1, job({ healthSeconds: 1 }));
    const { slot, run: r2 } = await restart(box, () => ({ forwarding: true, broker: false, config: false, detail: 'no broker' }));
    assert.equal(slot, 'B');
    assert.equal(box.store.journal()?.phase, 'rolling-back');
    assert.equal(r2.reboots.length, 1);
    const { slot: back, run: r3 } = await restart(box);
    assert.equal(back, 'A');
    const j = box.store.journal()!;
    assert.equal(j.phase, 'rolled-back');
    assert.match(j.error!.reason, /slot B failed its health check within 1 s: the broker was not reached, the configuration is not applied \(no broker\)/);
    assert.equal(r3.reports.at(-1)!.phase, 'rolled-back');
    await assertUntouched(box);
    assert.equal(box.store.slots().securityFloor, 0, 'a rolled-back bundle does not raise the floor');
  });

  it('is back on the old slot when the new one never comes up (the firmware gives up after its tries)', async () => {
    const box = makeBox(2);
    const r1 = await start(box);
    await sendJob(r1, job({}));
    assert.equal(await simulateBoot(box.chooser), 'B'); /* the agent dies before its check, twice */
    assert.equal(await simulateBoot(box.chooser), 'B');
    const { slot, run } = await restart(box);
    assert.equal(slot, 'A');
    assert.equal(box.store.journal()?.phase, 'rolled-back');
    assert.match(run.reports.at(-1)!.error!.reason, /slot B did not pass its health check within 2 boots; the firmware went back to slot A/);
    await assertUntouched(box);
  });

  it('resumes an interrupted download where it stopped, with Range requests', async () => {
    const box = makeBox();
    server.faults = { dropAfter: { bytes: 1_000_000, count: 2 } };
    const r1 = await start(box);
    await sendJob(r1, job({}));
    assert.equal(box.store.journal()?.phase, 'switched');
    assert.equal(fileSha256(box.slots.B), v2.sha256);
    const gets = server.requests.filter((q) => q.path === v2.name);
    assert.equal(gets.length, 3, JSON.stringify(gets));
    assert.equal(gets[0]!.range, null);
    const starts = gets.slice(1).map((q) => Number(/^bytes=(\d+)-$/.exec(q.range ?? '')?.[1]));
    assert.ok(starts[0]! > 900_000 && starts[1]! > starts[0]!, `resumed at ${starts}`);
    const sent = gets.reduce((s, q) => s + q.bytesSent, 0);
    assert.ok(sent < fs.statSync(v2.file).size + 2 * 64 * 1024 + 8192, `${sent} bytes sent in all: only the chunk under way is fetched again`);
  });

  it('resumes from the journal after a restart mid-download, trusting only what reads back right', async () => {
    const box = makeBox();
    server.faults = { bytesPerSecond: 2_000_000 };
    const r1 = await start(box);
    r1.client.onJob(job({}));
    while (!r1.reports.some((r) => (r.progress?.bytes ?? 0) > 1_000_000)) await new Promise((r) => setTimeout(r, 50));
    r1.client.stop();
    await r1.client.idle();
    const j = box.store.journal()!;
    assert.equal(j.phase, 'downloading');
    assert.ok(j.verifiedBytes > 0 && j.verifiedBytes < fs.statSync(v2.image).size);
    /* A write the power cut lost: the chunk before the mark reads wrong. */
    const fd = fs.openSync(box.slots.B, 'r+');
    fs.writeSync(fd, Buffer.alloc(10), 0, 10, 64 * 1024 + 5);
    fs.closeSync(fd);
    server.faults = {};
    server.requests.length = 0;
    const r2 = await start(box);
    assert.equal(box.store.journal()?.phase, 'switched');
    assert.equal(fileSha256(box.slots.B), v2.sha256);
    assert.equal(r2.reboots.length, 1);
    assert.equal(server.requests.length, 1, 'only the payload from the first bad chunk: the head was kept');
    const head = fs.statSync(v2.file).size - fs.statSync(v2.image).size;
    assert.equal(server.requests[0]!.range, `bytes=${head + 64 * 1024}-`);
  });

  it('resumes from a server that ignores Range', async () => {
    const box = makeBox();
    server.faults = { dropAfter: { bytes: 700_000, count: 1 }, ignoreRange: true };
    const r1 = await start(box);
    await sendJob(r1, job({}));
    assert.equal(box.store.journal()?.phase, 'switched');
    assert.equal(fileSha256(box.slots.B), v2.sha256);
  });

  describe('refuses, leaving the running slot untouched', () => {
    async function refused(box: Box, payload: Buffer, code: string, reason: RegExp): Promise<Run> {
      const r = await start(box);
      await sendJob(r, payload);
      const j = box.store.journal()!;
      assert.equal(j.phase, 'failed');
      assert.equal(j.error!.code, code, j.error!.reason);
      assert.match(j.error!.reason, reason);
      assert.equal(r.reboots.length, 0);
      assert.equal(r.reports.at(-1)!.phase, 'failed');
      assert.deepEqual(r.reports.at(-1)!.error, j.error);
      await assertUntouched(box);
      return r;
    }

    it('a bundle signed by a key the box does not trust', async () => {
      const other = makeKeys('other');
      const b = await makeBundle(dir, keys, { version: '2.0.1', key: other.privateKey });
      await refused(makeBox(), job({ url: server.url(b.name) }), 'OTA_SIGNATURE', /signature does not verify/);
    });

    it('a bundle for another board, or another architecture', async () => {
      const b = await makeBundle(dir, keys, { version: '2.0.2', boards: ['rpi4'] });
      await refused(makeBox(), job({ url: server.url(b.name) }), 'OTA_BOARD', /rpi4/);
      const c = await makeBundle(dir, keys, { version: '2.0.3', arch: 'arm64' });
      await refused(makeBox(), job({ url: server.url(c.name) }), 'OTA_ARCH', /arm64/);
    });

    it('a downgrade below the committed security version', async () => {
      const box = makeBox();
      box.store.raiseFloor(3);
      await refused(box, job({}), 'OTA_DOWNGRADE', /2.*3|3.*2/);
    });

    it('a bundle whose version is not the job\'s', async () => {
      await refused(makeBox(), job({ version: '9.9.9' }), 'OTA_VERSION', /asks for version 9\.9\.9.*is version 2\.0\.0/);
    });

    it('a truncated bundle', async () => {
      const cut = path.join(dir, 'truncated.vgb');
      fs.writeFileSync(cut, fs.readFileSync(v2.file).subarray(0, fs.statSync(v2.file).size - 70_000));
      await refused(makeBox(), job({ url: server.url('truncated.vgb') }), 'OTA_TRUNCATED', /./);
    });

    for (const where of ['first', 'middle', 'last'] as const) {
      it(`a flipped byte in the ${where} chunk, caught at that chunk`, async () => {
        const data = fs.readFileSync(v2.file);
        const payload = fs.statSync(v2.image).size;
        const head = data.length - payload;
        const chunks = Math.ceil(payload / (64 * 1024));
        const index = where === 'first' ? 0 : where === 'middle' ? Math.floor(chunks / 2) : chunks - 1;
        const at = head + index * 64 * 1024 + 17;
        data[at] ^= 0x40;
        fs.writeFileSync(path.join(dir, `flipped-${where}.vgb`), data);
        await refused(makeBox(), job({ url: server.url(`flipped-${where}.vgb`) }), 'OTA_CHUNK_HASH', new RegExp(`chunk ${index}\\b`));
      });
    }

    it('a job with a bad field, naming it', async () => {
      const box = makeBox();
      const r = await start(box);
      await sendJob(r, encodeCbor({ id: 'j', url: 'ftp://x/y' }));
      assert.match(r.reports.at(-1)!.rejectedJob!.reason, /url: must be an http:\/\/ or https:\/\/ URL/);
      await sendJob(r, encodeCbor({ id: 'j', url: server.url(v2.name), window: { cron: 'at two', minutes: 60 } }));
      assert.match(r.reports.at(-1)!.rejectedJob!.reason, /window\.cron: "at two" is not a cron expression/);
      await sendJob(r, encodeCbor({ id: 'j', url: server.url(v2.name), reboot: true }));
      assert.match(r.reports.at(-1)!.rejectedJob!.reason, /reboot: unknown field/);
      await sendJob(r, Buffer.from('{"id":"j"}'));
      assert.match(r.reports.at(-1)!.rejectedJob!.reason, /JSON/);
      assert.equal(box.store.journal(), null);
      assert.equal(server.requests.length, 0);
      await assertUntouched(box);
    });

    it('an unsigned job on a box that requires signatures (a signed one is taken)', async () => {
      const box = makeBox();
      const r = await start(box, undefined, { allowUnsigned: false });
      await sendJob(r, job({}));
      assert.match(r.reports.at(-1)!.rejectedJob!.reason, /unsigned/);
      assert.equal(server.requests.length, 0);
      await sendJob(r, signSign1(job({ id: 'signed' }), keys.privateKey));
      assert.equal(box.store.journal()?.phase, 'switched');
    });
  });

  it('downloads over HTTPS from a server the fleet\'s CA signed, and refuses one it did not', async function () {
    if (spawnSync('sh', ['-c', 'command -v openssl']).status !== 0) this.skip();
    const pki = testDir('ota-pki');
    const sh = (cmd: string) => {
      const r = spawnSync('bash', ['-c', cmd], { cwd: pki, encoding: 'utf8' });
      assert.equal(r.status, 0, `${cmd}: ${r.stderr}`);
    };
    const ec = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
    for (const ca of ['fleet', 'other']) sh(`openssl req -x509 ${ec} -keyout ${ca}-ca.key -out ${ca}-ca.pem -days 2 -subj /CN=${ca}-ca`);
    sh(`openssl req ${ec} -keyout server.key -out server.csr -subj /CN=127.0.0.1`);
    sh(`openssl x509 -req -in server.csr -CA fleet-ca.pem -CAkey fleet-ca.key -CAcreateserial -out server.pem -days 2 -extfile <(printf 'subjectAltName=IP:127.0.0.1')`);
    const secure = new BundleServer(dir);
    await secure.listen(0, '127.0.0.1', { key: fs.readFileSync(path.join(pki, 'server.key')), cert: fs.readFileSync(path.join(pki, 'server.pem')) });
    try {
      const url = secure.url(v2.name);
      assert.match(url, /^https:/);
      const box = makeBox();
      const r = await start(box, undefined, { http: { ca: fs.readFileSync(path.join(pki, 'fleet-ca.pem')) } });
      await sendJob(r, job({ url }));
      assert.equal(box.store.journal()?.phase, 'switched');
      assert.equal(fileSha256(box.slots.B), v2.sha256);

      const wrong = makeBox();
      const w = await start(wrong, undefined, { http: { ca: fs.readFileSync(path.join(pki, 'other-ca.pem')) } });
      await sendJob(w, job({ url }));
      const j = wrong.store.journal()!;
      assert.equal(j.phase, 'failed');
      assert.equal(j.error!.code, 'OTA_TLS', j.error!.reason);
      assert.match(j.error!.reason, /certificate/);
      await assertUntouched(wrong);
    } finally {
      await secure.close();
    }
  });

  it('waits for the maintenance window to restart', async () => {
    const box = makeBox();
    const r1 = await start(box);
    const closed = (new Date().getMinutes() + 30) % 60;
    await sendJob(r1, job({ window: { cron: `${closed} 3 * * *`, minutes: 5 } }));
    assert.equal(box.store.journal()?.phase, 'switched');
    assert.equal(r1.reboots.length, 0, 'no restart outside the window');
    const w = r1.reports.at(-1)!.waitingForWindow!;
    assert.equal(w.cron, `${closed} 3 * * *`);
    assert.ok(w.next && new Date(w.next).getTime() > Date.now());
    r1.client.stop();
    /* Started again inside a window: the restart happens at once. */
    box.store.saveJournal({ ...box.store.journal()!, job: { ...box.store.journal()!.job, window: { cron: '* * * * *', minutes: 1 } } });
    const r2 = await start(box);
    assert.equal(r2.reboots.length, 1);
  });
});
