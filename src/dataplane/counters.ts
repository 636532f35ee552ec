/* The counter tables the console and benchmarks show, read from the stats
 * segment: per-node runtime (`show runtime`), per-reason errors (`show
 * errors`) and per-interface counters (`show interface`). */
import { StatsSegment } from './stats';

export interface NodeRuntime {
  name: string;
  calls: number;
  vectors: number; /* frames handled (calls with at least one packet) */
  packets: number;
  clocks: number;
  clocksPerPacket: number;
  vectorsPerCall: number;
}

export interface ErrorCount {
  node: string;
  reason: string;
  count: number;
}

export interface InterfaceCounters {
  name: string;
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  drops: number;
  rxErrors: number; /* frames that arrived malformed (also counted in drops) */
}

/* Counter totals as numbers: 2^53 packets is centuries at line rate. */
function totals(stats: StatsSegment, entry: string): number[] {
  return stats.counter(entry).map(Number);
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);

export function readRuntime(stats: StatsSegment): NodeRuntime[] {
  const names = stats.names('/nodes/names');
  const calls = totals(stats, '/nodes/calls');
  const vectors = totals(stats, '/nodes/vectors');
  const packets = totals(stats, '/nodes/packets');
  const clocks = totals(stats, '/nodes/clocks');
  return names.map((name, i) => {
    const c = calls[i] ?? 0;
    const p = packets[i] ?? 0;
    const k = clocks[i] ?? 0;
    return {
      name,
      calls: c,
      vectors: vectors[i] ?? 0,
      packets: p,
      clocks: k,
      clocksPerPacket: ratio(k, p),
      // VPP's "Vectors/Call" counts packets per call (its "vectors" are
      // packets); our /nodes/vectors counts non-empty frames.
      vectorsPerCall: ratio(p, c),
    };
  });
}

/* Nonzero error counters only; names are "node-name/reason text". */
export function readErrors(stats: StatsSegment): ErrorCount[] {
  const names = stats.names('/err/names');
  const counts = totals(stats, '/err/counters');
  const out: ErrorCount[] = [];
  names.forEach((full, i) => {
    const count = counts[i] ?? 0;
    if (count === 0) return;
    const slash = full.indexOf('/');
    out.push({
      node: slash < 0 ? full : full.slice(0, slash),
      reason: slash < 0 ? '' : full.slice(slash + 1),
      count,
    });
  });
  return out;
}

export function readInterfaces(stats: StatsSegment): InterfaceCounters[] {
  const names = stats.names('/if/names');
  const col = (entry: string) => totals(stats, entry);
  const [rxp, rxb, txp, txb, drops, rxErrors] = ['rx-packets', 'rx-bytes', 'tx-packets', 'tx-bytes', 'drops', 'rx-errors'].map(
    (c) => col(`/if/${c}`),
  );
  return names.map((name, i) => ({
    name,
    rxPackets: rxp![i] ?? 0,
    rxBytes: rxb![i] ?? 0,
    txPackets: txp![i] ?? 0,
    txBytes: txb![i] ?? 0,
    drops: drops![i] ?? 0,
    rxErrors: rxErrors![i] ?? 0,
  }));
}
