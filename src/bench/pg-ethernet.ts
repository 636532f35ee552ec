/* pg-ethernet: the generator feeds ethernet-input 64-byte IPv4 frames; with
 * no ip4 handler yet ethernet-input sends them to error-drop with a counter.
 * Measures the input, classify and drop path: pg -> ethernet-input -> drop. */
import { Dataplane } from '../dataplane/dataplane';
import { VecgateError } from '../errors';
import { BenchOptions, BenchResult } from './scenario';

const FRAME =
  'size=64 eth.src=02:00:00:00:00:01 eth.dst=02:00:00:00:00:02 eth.type=0x0800 ' +
  'ip4.src=10.0.0.1 ip4.dst=10.1.0.1-10.1.0.254 l4=udp udp.sport=1024 udp.dport=4789 node=ethernet-input';

/* Sends `count` frames through the graph on this thread; returns seconds. */
function runStream(dp: Dataplane, name: string, count: number): { seconds: number; generatorSeconds: number } {
  const stream = dp.pgStreamAdd(`name=${name} count=${count} ${FRAME}`);
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

export function pgEthernet(opts: BenchOptions): BenchResult {
  const dp = Dataplane.open({ variant: opts.variant });
  try {
    // Warm caches, page in the buffer pool and let the CPU clock up first.
    const warmup = opts.warmupPackets ?? Math.min(opts.packets, 2_000_000);
    if (warmup > 0) runStream(dp, 'warmup', warmup);
    dp.statsClear('all');
    const { seconds, generatorSeconds } = runStream(dp, 'bench', opts.packets);
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
      scenario: 'pg-ethernet',
      variant: dp.variantInfo.variant,
      packets: opts.packets,
      seconds,
      mpps: opts.packets / seconds / 1e6,
      generatorSeconds,
      clockHz: dp.stats.clockHz,
      nodes,
      errors: dp.errors(),
    };
  } finally {
    dp.close();
  }
}
