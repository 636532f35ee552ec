/* The periodic one-line counters summary `vecgate run` logs. */
import { Dataplane } from './dataplane';

export interface CounterSummary {
  rxPackets: number;
  txPackets: number;
  drops: number;
  errors: number; /* packets counted by a node error (dropped with a reason) */
  rxPps: number;
  txPps: number;
}

export class SummaryTracker {
  /* Counters start from zero when the dataplane starts; the first rates are per second since then. */
  private last = { at: Date.now(), rx: 0, tx: 0 };

  constructor(private readonly dp: Dataplane) {}

  sample(now = Date.now()): CounterSummary {
    const ifs = this.dp.interfaceCounters();
    const sum = (f: (i: (typeof ifs)[number]) => number) => ifs.reduce((n, i) => n + f(i), 0);
    const rx = sum((i) => i.rxPackets);
    const tx = sum((i) => i.txPackets);
    const secs = (now - this.last.at) / 1000;
    const rate = (cur: number, prev: number) => (secs > 0 ? Math.round((cur - prev) / secs) : 0);
    const summary = {
      rxPackets: rx,
      txPackets: tx,
      drops: sum((i) => i.drops),
      errors: this.dp.errors().reduce((n, e) => n + e.count, 0),
      rxPps: rate(rx, this.last.rx),
      txPps: rate(tx, this.last.tx),
    };
    this.last = { at: now, rx, tx };
    return summary;
  }
}
