import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { decode, encode } from 'cbor-x';
import * as cron from 'node-cron';
import pino from 'pino';

import { Dataplane } from '../../src/dataplane/dataplane';
import { PACKAGE_ROOT } from '../../src/dataplane/paths';
import { SpecError, VecgateError } from '../../src/errors';
import { Logger } from '../../src/log';
import { collectTelemetry, realFilesystems, SystemSources, TelemetrySample } from '../../src/telemetry/collect';
import { DEFAULT_TELEMETRY_SCHEDULE, TelemetrySchedule } from '../../src/telemetry/schedule';
import { withoutVariantPin } from '../helpers';

/* A logger whose lines the test can read. */
function capturingLog(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}

const quiet = () => capturingLog().log;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/* Fails on undefined, bigint, Date, functions, NaN or a class instance anywhere in the sample. */
function assertPlainData(v: unknown, at = 'sample'): void {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') return assert.ok(Number.isFinite(v), `${at} is a finite number`);
  if (Array.isArray(v)) return v.forEach((x, i) => assertPlainData(x, `${at}[${i}]`));
  assert.equal(typeof v, 'object', `${at} is ${typeof v}`);
  assert.equal(Object.getPrototypeOf(v), Object.prototype, `${at} is a plain object`);
  for (const [k, x] of Object.entries(v as object)) assertPlainData(x, `${at}.${k}`);
}

/* Two pg streams into pg0 (10.0.0.254/24): `routed` packets leave by out0,
 * `lost` packets are for a network with no route and are dropped. */
function forwardingDataplane(routed: number, lost: number, extra = ''): { dp: Dataplane; streams: number[] } {
  const dp = Dataplane.open({ options: 'buffers=4096' });
  const out = dp.pcapInterfaceCreate('out0', { tx: '/dev/null' });
  dp.interfaceAddIp4(out, '192.0.2.1/24');
  dp.ip4NeighborAdd(out, '192.0.2.2', '02:00:00:00:00:aa');
  dp.ip4RouteAdd('203.0.113.0/24', [{ via: '192.0.2.2' }]);
  const stream = (name: string, count: number, dst: string) =>
    dp.pgStreamAdd(
      `name=${name} size=100 count=${count} eth.src=02:00:00:00:00:01 eth.dst=02:00:00:00:00:fe eth.type=0x0800 ` +
        `ip4.src=10.0.0.1 ip4.dst=${dst} l4=udp udp.sport=1 udp.dport=2 ${extra}`,
    );
  /* count=0 would mean forever */
  const streams = [stream('routed', routed, '203.0.113.9'), ...(lost > 0 ? [stream('lost', lost, '198.51.100.7')] : [])];
  const pg = dp.interfaceFind('pg0')!;
  dp.interfaceSetMac(pg, '02:00:00:00:00:fe');
  dp.interfaceAddIp4(pg, '10.0.0.254/24');
  return { dp, streams };
}

describe('telemetry/collect', () => {
  let dp: Dataplane | undefined;
  beforeEach(() => withoutVariantPin());
  afterEach(() => {
    dp?.close();
    dp = undefined;
  });

  it('samples the machine with sane values, as plain CBOR-ready data', async () => {
    const s = await collectTelemetry(undefined, { log: quiet() });
    assertPlainData(s);
    assert.deepEqual(decode(encode(s)), s, 'CBOR round trip');
    assert.ok(Math.abs(Date.now() - Date.parse(s.time)) < 60_000 && new Date(s.time).toISOString() === s.time);
    assert.equal(s.dataplane, null);

    const { memory, disks, cpuLoadPercent, cpuTemperatureC, uptimeSeconds } = s.system;
    assert.ok(memory, 'memory');
    const { totalBytes, usedBytes } = memory;
    assert.ok(totalBytes > usedBytes && usedBytes > 0, `total ${totalBytes} > used ${usedBytes} > 0`);
    assert.equal(memory.usedBytes + memory.availableBytes, memory.totalBytes);
    assert.ok(Math.abs(memory.totalBytes - os.totalmem()) / os.totalmem() < 0.01, 'total agrees with os.totalmem()');

    assert.ok(cpuLoadPercent !== null && cpuLoadPercent >= 0 && cpuLoadPercent <= 100, `cpu load ${cpuLoadPercent}`);
    assert.ok(cpuTemperatureC === null || (cpuTemperatureC > -40 && cpuTemperatureC < 150), `temperature ${cpuTemperatureC}`);

    const procUptime = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    assert.ok(uptimeSeconds !== null && uptimeSeconds > 0 && Math.abs(uptimeSeconds - procUptime) < 5, `uptime ${uptimeSeconds}`);

    assert.ok(disks && disks.length > 0 && disks.length <= 8, 'disks');
    assert.equal(disks[0]!.mount, '/', 'the root comes first');
    assert.equal(new Set(disks.map((d) => d.mount)).size, disks.length);
    for (const d of disks) assert.ok(d.sizeBytes >= d.usedBytes && d.usedBytes >= 0, d.mount);
    const st = fs.statfsSync('/');
    const rootSize = st.blocks * st.bsize;
    const rootSeen = disks[0]!.sizeBytes;
    assert.ok(Math.abs(rootSeen - rootSize) / rootSize < 0.01, `root size ${rootSeen} vs statfs ${rootSize}`);
  });

  it('reports the interface counters the generator produced and the drop reasons', async () => {
    const f = forwardingDataplane(300, 70);
    dp = f.dp;
    assert.equal(dp.runUntilIdle(), 370);
    const sent = f.streams.map((s) => dp!.pgStreamStatus(s));
    const s = await collectTelemetry(dp, { log: quiet() });
    assertPlainData(s);
    assert.ok(s.dataplane, 'dataplane section');
    const byName = new Map(s.dataplane.interfaces.map((i) => [i.name, i]));
    assert.deepEqual(byName.get('pg0'), {
      name: 'pg0',
      rxPackets: sent[0]!.packetsSent + sent[1]!.packetsSent,
      rxBytes: sent[0]!.bytesSent + sent[1]!.bytesSent,
      txPackets: 0,
      txBytes: 0,
      drops: 70,
      rxErrors: 0,
    });
    assert.equal(sent[0]!.packetsSent + sent[1]!.packetsSent, 370);
    assert.deepEqual(
      { tx: byName.get('out0')?.txPackets, bytes: byName.get('out0')?.txBytes, drops: byName.get('out0')?.drops },
      { tx: 300, bytes: 300 * 100, drops: 0 },
    );
    assert.deepEqual(
      s.dataplane.errors.find((e) => e.node === 'ip4-lookup'),
      { node: 'ip4-lookup', reason: 'no route to the destination', count: 70 },
    );
    assert.ok(s.dataplane.errors.every((e) => e.count > 0), 'only non-zero error counters');
    assert.ok(s.dataplane.vectorRate > 1, `packets move in vectors (vector rate ${s.dataplane.vectorRate})`);
  });

  it('reads a dataplane whose threads are forwarding, without stopping it', async () => {
    const f = forwardingDataplane(2000, 0, 'rate=4000');
    dp = f.dp;
    dp.start();
    await until('the generator to start', () => dp!.pgStreamStatus(f.streams[0]!).packetsSent > 0);
    const during = await collectTelemetry(dp, { log: quiet() });
    assert.ok(dp.isRunning());
    await until('the generator to finish', () => dp!.pgStreamStatus(f.streams[0]!).done);
    await until('the last packets to leave', () => dp!.interfaceCounters().find((i) => i.name === 'out0')?.txPackets === 2000);
    const after = await collectTelemetry(dp, { log: quiet() });
    const rx = (s: TelemetrySample) => s.dataplane!.interfaces.find((i) => i.name === 'pg0')!.rxPackets;
    assert.ok(rx(during) > 0 && rx(during) < 2000, `mid-stream sample saw ${rx(during)} of 2000`);
    assert.equal(rx(after), 2000);
  });

  it('gives null for a dataplane that cannot be read, and logs why', async () => {
    dp = Dataplane.open({ options: 'buffers=1024' });
    dp.close();
    const { log, lines } = capturingLog();
    const s = await collectTelemetry(dp, { log });
    assert.equal(s.dataplane, null);
    assert.ok(s.system.memory, 'the system part stands');
    assert.ok(lines.some((l) => JSON.stringify(l).includes('DATAPLANE_CLOSED')), 'the error is logged');
  });

  it('turns a failed source into null, logs the error and keeps the rest', async () => {
    const { log, lines } = capturingLog();
    const s = await collectTelemetry(undefined, { log, sources: { disks: () => Promise.reject(new Error('df exploded')) } });
    assert.equal(s.system.disks, null);
    assert.ok(s.system.memory && s.system.uptimeSeconds, 'the other sources still answer');
    const line = lines.find((l) => l.source === 'disks');
    assert.ok(line && JSON.stringify(line).includes('df exploded'), 'the error is logged with its source');
  });

  it('cuts a hung source off at the timeout and joins it, not starts it again, next time', async () => {
    let calls = 0;
    let release: (d: []) => void = () => {};
    const fake: SystemSources = {
      cpuLoadPercent: async () => 1,
      cpuTemperatureC: async () => null,
      memory: async () => ({ totalBytes: 3, usedBytes: 1, availableBytes: 2 }),
      uptimeSeconds: async () => 9,
      disks: () => {
        calls++;
        return new Promise((r) => (release = r)); /* a df that never returns */
      },
    };
    const { log, lines } = capturingLog();
    for (let i = 0; i < 2; i++) {
      const t0 = Date.now();
      const s = await collectTelemetry(undefined, { log, timeoutMs: 200, sources: fake });
      const took = Date.now() - t0;
      assert.ok(took >= 190 && took < 1000, `sample ${i} took ${took} ms`);
      assert.equal(s.system.disks, null);
      assert.equal(s.system.uptimeSeconds, 9);
    }
    assert.equal(calls, 1, 'the hung call is joined, not started again');
    assert.equal(lines.filter((l) => l.source === 'disks' && /timed out/.test(String(l.msg))).length, 2);
    release([]);
    await sleep(0);
    const s = await collectTelemetry(undefined, { log, timeoutMs: 200, sources: fake });
    assert.equal(calls, 2, 'once it returned, the next sample asks again');
    assert.equal(s.system.disks, null, 'the new call hangs too');
    release([]);
  });

  it('keeps only real filesystems, each device once, the root first', () => {
    /* rows as systeminformation's fsSize() gives them */
    const row = (fs: string, type: string, mount: string, size = 100) =>
      ({ fs, type, mount, size, used: 10, available: 90, use: 10, rw: true });
    const disks = realFilesystems([
      row('devtmpfs', 'devtmpfs', '/dev'),
      row('tmpfs', 'tmpfs', '/dev/shm'),
      row('/dev/vda1', 'ext4', '/data'),
      row('/dev/vda1', 'ext4', '/run/netns/deep'),
      row('overlay', 'overlay', '/'),
      row('/dev/loop0', 'squashfs', '/snap/core/1'),
      row('/dev/vdb', 'ext4', '/empty', 0),
    ]);
    assert.deepEqual(disks, [
      { mount: '/', sizeBytes: 100, usedBytes: 10 },
      { mount: '/data', sizeBytes: 100, usedBytes: 10 },
    ]);
  });
});

describe('telemetry/schedule', () => {
  let schedule: TelemetrySchedule | undefined;
  afterEach(() => {
    schedule?.stop();
    schedule = undefined;
  });

  it('publishes on a 1-second schedule and stops', async () => {
    schedule = new TelemetrySchedule(undefined, { log: quiet() });
    const samples: TelemetrySample[] = [];
    const tasks = cron.getTasks().size;
    schedule.start('* * * * * *', (s) => void samples.push(s));
    assert.equal(schedule.expression, '* * * * * *');
    await until('two samples', () => samples.length >= 2, 5000);
    schedule.stop();
    assert.equal(schedule.expression, undefined);
    assert.equal(cron.getTasks().size, tasks, 'the task has left node-cron\'s registry');
    const n = samples.length;
    assert.ok(Date.parse(samples[1]!.time) - Date.parse(samples[0]!.time) >= 900, 'a second apart');
    assert.ok(samples.every((s) => s.system.memory !== null));
    await sleep(1300);
    assert.equal(samples.length, n, 'nothing published after stop()');
  });

  it('does not publish a sample whose collection was under way at stop()', async () => {
    let collecting = false;
    const slowMemory = async () => {
      collecting = true;
      await sleep(300);
      return { totalBytes: 3, usedBytes: 1, availableBytes: 2 };
    };
    schedule = new TelemetrySchedule(undefined, { log: quiet(), sources: { memory: slowMemory } });
    let published = 0;
    schedule.start('* * * * * *', () => void published++);
    await until('a collection under way', () => collecting, 3000);
    schedule.stop();
    await sleep(600);
    assert.equal(published, 0);
  });

  it('skips a tick while the previous run is still going, never overlapping', async () => {
    schedule = new TelemetrySchedule(undefined, { log: quiet() });
    let inside = 0;
    let most = 0;
    let done = 0;
    schedule.start('* * * * * *', async () => {
      most = Math.max(most, ++inside);
      await sleep(1600); /* a slow broker */
      inside--;
      done++;
    });
    await until('a skipped tick and two publishes', () => schedule!.skippedTicks >= 1 && done >= 2, 8000);
    assert.equal(most, 1, 'runs never overlap');
  });

  it('uses the 10-second default and refuses a second start', () => {
    schedule = new TelemetrySchedule(undefined, { log: quiet() });
    assert.equal(DEFAULT_TELEMETRY_SCHEDULE, '*/10 * * * * *');
    schedule.start(undefined, () => {});
    assert.equal(schedule.expression, '*/10 * * * * *');
    assert.throws(() => schedule!.start('* * * * * *', () => {}), { code: 'TELEMETRY_RUNNING' });
  });

  it('refuses a bad cron expression, naming it', () => {
    schedule = new TelemetrySchedule(undefined, { log: quiet() });
    const tasks = cron.getTasks().size;
    for (const bad of ['every ten seconds', '*/0 * * * * *', '61 * * * * *', '* * * *', '']) {
      assert.throws(
        () => schedule!.start(bad, () => {}),
        (e: unknown) =>
          e instanceof SpecError &&
          e instanceof VecgateError &&
          e.code === 'TELEMETRY_SCHEDULE_INVALID' &&
          e.field === 'telemetry.schedule' &&
          e.message.includes(JSON.stringify(bad)),
        bad,
      );
      assert.equal(schedule.expression, undefined);
    }
    assert.equal(cron.getTasks().size, tasks, 'no task left behind in node-cron');
  });

  it('samples on demand, sharing a collection already running', async () => {
    schedule = new TelemetrySchedule(undefined, { log: quiet() });
    const [a, b] = await Promise.all([schedule.sampleNow(), schedule.sampleNow()]);
    assert.equal(a, b);
    const c = await schedule.sampleNow();
    assert.notEqual(c, a, 'a later call collects again');
  });

  it('leaves the process free to exit after stop()', function () {
    this.timeout(20000);
    const dist = (p: string) => JSON.stringify(path.join(PACKAGE_ROOT, 'dist', 'src', p));
    const script = `
      const { TelemetrySchedule } = require(${dist('telemetry/schedule.js')});
      const { createLogger } = require(${dist('log.js')});
      const t = new TelemetrySchedule(undefined, { log: createLogger({ level: 'silent' }) });
      let n = 0;
      t.start('* * * * * *', async () => {
        if (++n !== 2) return;
        t.stop();
        console.log('stopped after', n);
      });`;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10000 });
    assert.equal(child.error, undefined, 'the child exited by itself (no timer left)');
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, /^stopped after 2$/m);
  });
});
