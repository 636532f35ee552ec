/* A benchmark result as text, laid out like VPP's `show runtime`. */
import { AgentResult, BenchResult } from './scenario';

/* `align`: one letter per column, l or r. */
function table(head: string[], rows: string[][], align: string): string {
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (align[i] === 'l' ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

const sci = (n: number) => (n >= 1e4 ? n.toExponential(2) : n.toFixed(2));

/* A figure as text: fractions to 3 places, objects as JSON. */
const fig = (v: unknown) =>
  typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);

/* What every packet scenario reports; anything else is the scenario's own figure. */
const PACKET_FIELDS = new Set(['scenario', 'variant', 'packets', 'seconds', 'mpps', 'generatorSeconds', 'clockHz', 'nodes', 'errors']);

export function formatBench(result: BenchResult | AgentResult): string {
  if (!Array.isArray(result.nodes)) {
    /* Not a packet scenario: one figure a line. */
    return table(['Figure', 'Value'], Object.entries(result).filter(([k]) => k !== 'scenario').map(([k, v]) => [k, fig(v)]), 'lr').replace(/^/, `${result.scenario}\n`);
  }
  const r = result as BenchResult;
  const out = [
    `${r.scenario}: ${r.packets} packets in ${r.seconds.toFixed(3)} s = ${r.mpps.toFixed(2)} Mpps ` +
      `(variant ${r.variant}; generator clock ${r.generatorSeconds.toFixed(3)} s)`,
    '',
    table(
      ['Name', 'Calls', 'Vectors', 'Clocks', 'Vectors/Call'],
      r.nodes.map((n) => [n.name, String(n.calls), String(n.packets), sci(n.clocksPerPacket), n.vectorsPerCall.toFixed(2)]),
      'lrrrr',
    ),
  ];
  if (r.errors.length > 0) {
    out.push('', table(['Count', 'Node', 'Reason'], r.errors.map((e) => [String(e.count), e.node, e.reason]), 'rll'));
  }
  const own = Object.entries(r).filter(([k]) => !PACKET_FIELDS.has(k));
  if (own.length > 0) out.push('', table(['Figure', 'Value'], own.map(([k, v]) => [k, fig(v)]), 'll'));
  return out.join('\n');
}
