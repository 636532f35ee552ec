/* The timed part every generator scenario shares: a warm-up run, counters
 * cleared, one timed run of `packets` frames of `frame`, and the result with
 * the per-node runtime. Scenarios only set the dataplane up. */
import { Dataplane } from '../dataplane/dataplane';
import { VecgateError } from '../errors';
import { BenchOptions, BenchResult } from './scenario';

/* Sends `count` frames through the graph on this thread. */
function runStream(dp: Dataplane, name: string, count: number, frame: string): { seconds: number; generatorSeconds: number } {
  const stream = dp.pgStreamAdd(`name=${name} count=${count} ${frame}`);
  const t0 = process.hrtime.bigint();
  dp.runUntilIdle();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const status = dp.pgStreamStatus(stream);
  dp.pgStreamDelete(stream);
  if (status.packetsSent !== count || !status.done) {
    throw new VecgateError('BENCH_SHORT', `stream ${name} sent ${status.packetsSent} of ${count} packets`);
  }
  return { seconds, generatorSeconds: Number(status.lastNs - status.firstNs) / 1e9 };
}

export function measure(dp: Dataplane, scenario: string, opts: BenchOptions, frame: string): BenchResult {
  // Warm caches, page in the buffer pool and let the CPU clock up first.
  const warmup = opts.warmupPackets ?? Math.min(opts.packets, 2_000_000);
  if (warmup > 0) runStream(dp, 'warmup', warmup, frame);
  dp.statsClear('all');
  const { seconds, generatorSeconds } = runStream(dp, 'bench', opts.packets, frame);
  const nodes = dp
    .runtime()
    .filter((n) => n.packets > 0)
    .map(({ name, calls, vectors, packets, clocksPerPacket, vectorsPerCall }) => ({
      name,
      calls,
      vectors,
      packets,
      clocksPerPacket,
      vectorsPerCall,
    }));
  return {
    scenario,
    variant: dp.variantInfo.variant,
    packets: opts.packets,
    seconds,
    mpps: opts.packets / seconds / 1e6,
    generatorSeconds,
    clockHz: dp.stats.clockHz,
    nodes,
    errors: dp.errors(),
  };
}

/* Opens a dataplane for the scenario and always closes it. */
export function withDataplane(opts: BenchOptions, fn: (dp: Dataplane) => BenchResult): BenchResult {
  const dp = Dataplane.open({ variant: opts.variant, options: opts.dataplaneOptions });
  try {
    return fn(dp);
  } finally {
    dp.close();
  }
}

/* The generator's port, pg0, made by a disabled stream, for a scenario to
 * address or bridge before its traffic starts. */
export function generatorPort(dp: Dataplane): number {
  const setup = dp.pgStreamAdd('name=setup count=1 enable=0 if=pg0');
  const pg0 = dp.interfaceFind('pg0')!;
  dp.pgStreamDelete(setup);
  return pg0;
}
