/* Power loss at every step of an install, with the real runtime: `vecgate
 * run` on a sim board with file-backed slots, a real mosquitto, the job
 * published as the fleet does, the bundle from a real HTTP server. The
 * runtime is SIGKILLed at a step (VECGATE_OTA_FAILPOINT, src/ota/failpoint.ts),
 * the test acts as the firmware (the file chooser's boot step) and starts it
 * again: the box must come up on a slot that holds a good image every time,
 * and end with the update committed. */
import { strict as assert } from 'node:assert';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import mqtt, { MqttClient } from 'mqtt';

import { haveMosquitto, Mosquitto } from '../../src/bench/mosquitto';
import { OTA_DEFAULTS } from '../../src/board/platform';
import { openBootChooser, simulateBoot, Slot } from '../../src/ota/boot-chooser';
import type { OtaStateReport } from '../../src/ota/client';
import { OtaStore } from '../../src/ota/store';
import { encodeCbor } from '../../src/transport/codec';
import { Topics } from '../../src/transport/topics';
import { CLI, testDir, withoutVariantPin } from '../helpers';
import { BundleServer } from '../../src/ota/serve';
import { nextMessage } from '../agent/fixture';
import { fileSha256, makeBundle, makeImage, makeKeys, startServer } from './fixture';

const CHUNK = 64 * 1024;
const PAYLOAD = 9 * 1024 * 1024 + 4321; /* past the installer's 8 MiB checkpoint */

describe('ota: power loss at every step of an install (vecgate run, mosquitto, HTTP)', function () {
  this.timeout(120_000);
  let broker: Mosquitto;
  let server: BundleServer;
  let op: MqttClient;
  let bundleDir: string;
  let bundle: Awaited<ReturnType<typeof makeBundle>>;
  let pubPem: string;
  const children = new Set<ChildProcess>();

  before(async function () {
    if (!haveMosquitto()) this.skip();
    withoutVariantPin();
    broker = await Mosquitto.start();
    bundleDir = testDir('ota-power');
    const keys = makeKeys();
    pubPem = path.join(bundleDir, 'fleet.pub.pem');
    fs.writeFileSync(pubPem, keys.publicPem);
    bundle = await makeBundle(bundleDir, keys, { version: '2.0.0', securityVersion: 2, bytes: PAYLOAD, chunkSize: CHUNK });
    server = await startServer(bundleDir);
    op = await mqtt.connectAsync(broker.url, { clientId: `op-ota-${process.pid}` });
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await op?.endAsync();
    await server?.close();
    await broker?.close();
  });

  interface Box {
    dir: string;
    board: string;
    device: string;
    topics: Topics;
    slots: Record<Slot, string>;
    env: string;
    factory: string;
  }

  let n = 0;
  function makeBox(): Box {
    const dir = testDir('ota-power-box');
    const device = `ota-${process.pid}-${++n}`;
    const slots = { A: path.join(dir, 'slot-a'), B: path.join(dir, 'slot-b') };
    makeImage(dir, 'slot-a', 256 * 1024);
    const env = path.join(dir, 'boot-chooser.json');
    const sim = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'board', 'sim.json'), 'utf8'));
    sim.ota = { ...sim.ota, slots, env, tries: 3 };
    sim.agent = { ...sim.agent, fleet: 'test', device, trustAnchors: [pubPem], allowUnsigned: true, sampleDocument: null };
    const board = path.join(dir, 'board.json');
    fs.writeFileSync(board, JSON.stringify(sim));
    return { dir, board, device, topics: new Topics('test', device), slots, env, factory: fileSha256(slots.A) };
  }

  function chooserOf(box: Box) {
    return openBootChooser({ ...OTA_DEFAULTS, bootChooser: 'file', slots: box.slots, env: box.env, tries: 3 });
  }

  /* Starts the runtime; resolves with its exit (code or signal) and what it logged. */
  function run(box: Box, failpoint?: string): { exited: Promise<{ code: number | null; signal: string | null }>; child: ChildProcess; out: () => string } {
    const env: NodeJS.ProcessEnv = { ...process.env, VECGATE_VARIANT: "" };
    delete env.VECGATE_OTA_FAILPOINT;
    delete env.VECGATE_SLOT;
    if (failpoint) env.VECGATE_OTA_FAILPOINT = failpoint;
    const child = spawn(process.execPath, [CLI, 'run', '--board', box.board, '--broker', broker.url, '--state-dir', path.join(box.dir, 'state'), '--cli-socket', 'none', '--no-telemetry'], { env });
    children.add(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.on('exit', (code, signal) => {
        children.delete(child);
        resolve({ code, signal });
      }),
    );
    return { exited, child, out: () => out };
  }

  async function stop(r: ReturnType<typeof run>): Promise<void> {
    r.child.kill('SIGTERM');
    await r.exited;
  }

  /* The next ota/state of this box that satisfies `ok`. */
  function otaState(box: Box, ok: (s: OtaStateReport) => boolean, ms = 60_000): Promise<OtaStateReport> {
    const next = nextMessage(op, box.topics.otaState, ok, ms);
    void op.subscribeAsync(box.topics.otaState, { qos: 1 });
    return next;
  }

  /* Power back on: the firmware picks a slot; it must hold a good image. */
  async function powerOn(box: Box): Promise<Slot> {
    const slot = await simulateBoot(chooserOf(box));
    const record = new OtaStore(path.join(box.dir, 'state')).slots().slots[slot];
    const sha = fileSha256(box.slots[slot], record?.size);
    if (slot === 'A' && !record) assert.equal(sha, box.factory, 'booted slot A, whose factory image must be intact');
    else assert.equal(sha, record?.sha256 ?? bundle.sha256, `booted slot ${slot}, which must hold the image its record names`);
    return slot;
  }

  async function publishJob(box: Box, id: string): Promise<void> {
    await op.publishAsync(box.topics.otaJob, encodeCbor({ id, url: server.url(bundle.name), version: '2.0.0', healthSeconds: 20 }), { qos: 1, retain: true });
  }

  async function assertCommitted(box: Box): Promise<void> {
    const st = await chooserOf(box).read();
    assert.deepEqual([st.primary, st.trial], ['B', null]);
    assert.equal(fileSha256(box.slots.B, PAYLOAD), bundle.sha256);
    assert.equal(fileSha256(box.slots.A), box.factory, 'the old slot is kept as it was');
  }

  afterEach(async () => {
    for (const c of children) c.kill('SIGKILL');
  });

  it('with no power loss: installs, restarts itself into slot B, passes the health check, commits', async () => {
    const box = makeBox();
    const r = run(box);
    const done = otaState(box, (s) => s.phase === 'committed');
    await publishJob(box, 'clean');
    const s = await done;
    assert.deepEqual(s.running, { slot: 'B', version: '2.0.0' });
    assert.match(r.out(), /the simulated firmware booted slot B/);
    await assertCommitted(box);
    await stop(r);
    await op.publishAsync(box.topics.otaJob, Buffer.alloc(0), { qos: 1, retain: true });
  });

  const steps: { at: string; what: string }[] = [
    { at: 'download:140', what: 'mid-download, past a checkpoint' },
    { at: 'written', what: 'with the payload written, before the journal says so' },
    { at: 'switch', what: 'after the boot chooser was switched, before the journal says so' },
    { at: 'first-start', what: 'at the first start on the new slot' },
    { at: 'commit', what: 'after the commit, before the journal says so' },
  ];
  for (const step of steps) {
    it(`killed ${step.what} (${step.at}): comes back on a good slot and ends committed`, async () => {
      const box = makeBox();
      const first = run(box, step.at);
      await publishJob(box, `kill-${step.at}`);
      const end = await Promise.race([first.exited, new Promise<{ signal: string }>((r) => setTimeout(() => r({ signal: 'still running after 60 s' }), 60_000))]);
      assert.equal(end.signal, 'SIGKILL', `the runtime was to die at ${step.at}:\n${first.out().slice(-3000)}`);
      server.requests.length = 0;
      await powerOn(box);
      const done = otaState(box, (s) => s.phase === 'committed');
      const second = run(box);
      await done.catch((e) => assert.fail(`${e.message}\n${second.out().slice(-4000)}`));
      await assertCommitted(box);
      if (step.at.startsWith('download')) {
        const resumed = server.requests.find((q) => q.path === bundle.name);
        assert.ok(resumed?.range, 'the download resumed with a Range request');
        const head = fs.statSync(bundle.file).size - PAYLOAD;
        assert.ok(Number(/bytes=(\d+)-/.exec(resumed.range)![1]) >= head + 8 * 1024 * 1024, `resumed at ${resumed.range}: after the synced 8 MiB`);
      }
      await stop(second);
      /* And a power cycle after the commit stays on B. */
      assert.equal(await powerOn(box), 'B');
      await op.publishAsync(box.topics.otaJob, Buffer.alloc(0), { qos: 1, retain: true });
    });
  }

  it('a new slot that fails its health check (an item FAILED) is rolled back by the agent, which says why', async () => {
    const box = makeBox();
    /* A config the box cannot apply: the health check's "configuration applied" fails. */
    await op.publishAsync(box.topics.deviceConfig, encodeCbor({ version: 1, items: { 'interfaces/up0': { type: 'af_packet', hostIf: `nosuch${process.pid}` } } }), { qos: 1, retain: true });
    const r = run(box);
    const back = otaState(box, (s) => s.phase === 'rolled-back');
    await op.publishAsync(box.topics.otaJob, encodeCbor({ id: 'unhealthy', url: server.url(bundle.name), healthSeconds: 2 }), { qos: 1, retain: true });
    const s = await back.catch((e) => assert.fail(`${e.message}\n${r.out().slice(-4000)}`));
    assert.match(s.error!.reason, /slot B failed its health check within 2 s: the configuration is not applied \(1 item\(s\) FAILED: interfaces\/up0\)/);
    assert.equal(s.error!.code, 'OTA_HEALTH');
    assert.deepEqual(s.running, { slot: 'A', version: null });
    const st = await chooserOf(box).read();
    assert.deepEqual([st.primary, st.trial], ['A', null]);
    assert.equal(fileSha256(box.slots.A), box.factory);
    assert.match(r.out(), /booted slot B[\s\S]*booted slot A/);
    await stop(r);
    await op.publishAsync(box.topics.otaJob, Buffer.alloc(0), { qos: 1, retain: true });
    await op.publishAsync(box.topics.deviceConfig, Buffer.alloc(0), { qos: 1, retain: true });
  });

  it('killed at the first start on the new slot every time: the firmware falls back to A after its tries, and the box reports it', async () => {
    const box = makeBox();
    const first = run(box, 'first-start');
    await publishJob(box, 'never-healthy');
    assert.equal((await first.exited).signal, 'SIGKILL');
    for (let i = 0; i < 2; i++) {
      assert.equal(await powerOn(box), 'B');
      assert.equal((await run(box, 'first-start').exited).signal, 'SIGKILL');
    }
    assert.equal(await powerOn(box), 'A');
    const back = otaState(box, (s) => s.phase === 'rolled-back');
    const last = run(box);
    const s = await back;
    assert.match(s.error!.reason, /slot B did not pass its health check within 3 boots; the firmware went back to slot A/);
    assert.equal(s.running.slot, 'A');
    assert.equal(fileSha256(box.slots.A), box.factory);
    await stop(last);
    await op.publishAsync(box.topics.otaJob, Buffer.alloc(0), { qos: 1, retain: true });
  });
});
