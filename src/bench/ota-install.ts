/* ota-install: the agent installing a bundle as a fleet has it do it.
 * `vecgate run` on a sim board with file-backed slots; a bundle of `size`
 * MB (random payload, 1 MiB chunks, signed) served over loopback HTTP by
 * this process; the job published on …/ota/job. Timed from publishing the
 * job to the agent's …/ota/state saying the slot is written, read back and
 * switched (signature, every chunk's hash and the read-back included). The
 * job's maintenance window never opens, so the box does not restart. The
 * board has no generator port (see below).
 *  - mbPerSecond: payload MB / those seconds;
 *  - rssDeltaMB: the agent's highest resident memory during the install
 *    (sampled every 10 ms) minus its idle figure just before the job;
 *  - rawMbPerSecond: the same bundle fetched over the same HTTP into a file
 *    by this process with no verification, the reference. */
import { ChildProcess, spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import mqtt from 'mqtt';

import { NODE_FLAGS, PROCESS_ENV } from '../cli/process-options';
import { PACKAGE_ROOT, cpuFamily } from '../dataplane/paths';
import { VecgateError } from '../errors';
import { createBundle } from '../ota/bundle';
import type { OtaStateReport } from '../ota/client';
import { BundleServer } from '../ota/serve';
import { decodeCbor, encodeCbor } from '../transport/codec';
import { Topics } from '../transport/topics';
import { rss, startBroker } from './agent-routes';
import { BenchOptions } from './scenario';

const DEFAULT_MB = 64;
const CLI = path.join(PACKAGE_ROOT, 'dist', 'src', 'cli', 'main.js');
const FLEET = 'bench';
const DEVICE = 'ota-install';
/* A one-minute window twelve hours from now: the agent installs and waits. */
function farWindow(): { cron: string; minutes: number } {
  const at = new Date(Date.now() + 12 * 3600_000);
  return { cron: `${at.getMinutes()} ${at.getHours()} * * *`, minutes: 1 };
}

export interface OtaBenchResult {
  [figure: string]: unknown;
  scenario: string;
  sizeMB: number;
  seconds: number;
  mbPerSecond: number;
  rssIdleMB: number;
  rssPeakMB: number;
  rssDeltaMB: number;
  rawMbPerSecond: number;
  ratioToRaw: number;
  broker: string;
}

function writeRandom(file: string, bytes: number): void {
  const fd = fs.openSync(file, 'w');
  const block = crypto.randomBytes(1 << 20);
  for (let off = 0; off < bytes; off += block.length) {
    crypto.randomFillSync(block);
    fs.writeSync(fd, block, 0, Math.min(block.length, bytes - off));
  }
  fs.closeSync(fd);
}

/* The reference: the bundle over the same HTTP into a file, nothing checked. */
function rawDownload(url: string, file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    http
      .get(url, (res) => {
        const out = fs.createWriteStream(file);
        res.pipe(out);
        out.on('finish', () => {
          const fd = fs.openSync(file, 'r+');
          fs.fdatasyncSync(fd);
          fs.closeSync(fd);
          resolve(Number(process.hrtime.bigint() - t0) / 1e9);
        });
        out.on('error', reject);
      })
      .on('error', reject);
  });
}

export async function otaInstall(opts: BenchOptions): Promise<OtaBenchResult> {
  const sizeMB = opts.sizeMB ?? DEFAULT_MB;
  if (!Number.isInteger(sizeMB) || sizeMB < 1 || sizeMB > 4096) throw new VecgateError('BENCH_OPTION', '--size must be 1..4096 (MB)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vecgate-bench-ota-'));
  const bytes = sizeMB * 1e6;
  let agent: ChildProcess | undefined;
  let server: BundleServer | undefined;
  const broker = await startBroker();
  const client = await mqtt.connectAsync(broker.url, { clientId: `bench-ota-${process.pid}` });
  const topics = new Topics(FLEET, DEVICE);
  try {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
    fs.writeFileSync(path.join(dir, 'fleet.pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    const image = path.join(dir, 'image.squashfs');
    writeRandom(image, bytes);
    fs.mkdirSync(path.join(dir, 'www'));
    await createBundle({ image, out: path.join(dir, 'www', 'bundle.vgb'), key: privateKey, version: 'bench', securityVersion: 1, arch: cpuFamily(), boards: ['sim'] });
    fs.rmSync(image);
    server = new BundleServer(path.join(dir, 'www'));
    server.logRequests = false;
    await server.listen();

    const sim = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'board', 'sim.json'), 'utf8'));
    sim.ota = { ...sim.ota, slots: { A: path.join(dir, 'slot-a'), B: path.join(dir, 'slot-b') }, env: path.join(dir, 'boot-chooser.json') };
    /* No generator port: its 10k packets/s keep the sim dataplane's thread
     * busy on one of a 2-core VM's cores, where a box's dataplane has worker
     * cores of its own and the agent its core. */
    sim.ports = [];
    sim.agent = { ...sim.agent, fleet: FLEET, device: DEVICE, trustAnchors: [path.join(dir, 'fleet.pub.pem')], sampleDocument: null };
    fs.writeFileSync(path.join(dir, 'board.json'), JSON.stringify(sim));

    await client.publishAsync(topics.otaJob, Buffer.alloc(0), { qos: 1, retain: true });
    await client.subscribeAsync(topics.otaState, { qos: 1 });
    let last: OtaStateReport | undefined;
    let waiter: (() => void) | undefined;
    client.on('message', (_t, payload) => {
      if (!payload.length) return;
      last = decodeCbor(payload) as OtaStateReport;
      waiter?.();
    });
    const until = (ok: (s: OtaStateReport) => boolean, ms: number) =>
      new Promise<OtaStateReport>((resolve, reject) => {
        const timer = setTimeout(() => reject(new VecgateError('BENCH_TIMEOUT', `no matching ota/state within ${ms} ms (last: ${JSON.stringify(last)})`)), ms);
        waiter = () => {
          if (!last) return;
          if (last.phase === 'failed' || last.rejectedJob) {
            clearTimeout(timer);
            return reject(new VecgateError('BENCH_OTA', `the install failed: ${last.rejectedJob?.reason ?? `${last.error?.code}: ${last.error?.reason}`}`));
          }
          if (!ok(last)) return;
          clearTimeout(timer);
          waiter = undefined;
          resolve(last);
        };
        waiter();
      });

    const args = [CLI, 'run', '--board', path.join(dir, 'board.json'), '--broker', broker.url, '--state-dir', path.join(dir, 'state'), '--no-telemetry', '--cli-socket', 'none', '--summary-interval', '3600'];
    agent = spawn(process.execPath, [...NODE_FLAGS, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...PROCESS_ENV, VECGATE_SLOT: '' } });
    createInterface({ input: agent.stdout! }).on('line', () => undefined);
    const exited = new Promise<never>((_, reject) => agent!.once('exit', (code) => reject(new VecgateError('BENCH_AGENT', `vecgate run exited with ${code}`))));
    await Promise.race([until((s) => s.phase === 'idle', 30_000), exited]);
    await new Promise((r) => setTimeout(r, 1000));
    const pid = agent.pid!;
    const rssIdleMB = rss(pid).total;
    let rssPeakMB = rssIdleMB;
    const sampler = setInterval(() => {
      try {
        rssPeakMB = Math.max(rssPeakMB, rss(pid).total);
      } catch {
        /* exited: the race below says so */
      }
    }, 10);
    const t0 = process.hrtime.bigint();
    await client.publishAsync(topics.otaJob, encodeCbor({ id: `bench-${Date.now()}`, url: server.url('bundle.vgb'), window: farWindow() }), { qos: 1, retain: true });
    try {
      await Promise.race([until((s) => s.phase === 'switched', 600_000), exited]);
    } finally {
      clearInterval(sampler);
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const rawSeconds = await rawDownload(server.url('bundle.vgb'), path.join(dir, 'raw.vgb'));
    const mbPerSecond = sizeMB / seconds;
    const rawMbPerSecond = fs.statSync(path.join(dir, 'raw.vgb')).size / 1e6 / rawSeconds;
    return {
      scenario: 'ota-install',
      sizeMB,
      seconds,
      mbPerSecond,
      rssIdleMB,
      rssPeakMB,
      rssDeltaMB: rssPeakMB - rssIdleMB,
      rawMbPerSecond,
      ratioToRaw: mbPerSecond / rawMbPerSecond,
      broker: broker.name,
    };
  } finally {
    if (agent && agent.exitCode === null) {
      const gone = new Promise((r) => agent!.once('exit', r));
      agent.kill('SIGTERM');
      await gone;
    }
    await client.publishAsync(topics.otaJob, Buffer.alloc(0), { qos: 1, retain: true }).catch(() => undefined);
    await client.endAsync();
    await server?.close();
    await broker.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
