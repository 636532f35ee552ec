/* vecgate bench <scenario> [--json] [--variant V] [--packets N] [--warmup N] [--macs N] [--routes N]
 *   [--alg ALG] [--payload BYTES] */
import { parseArgs } from 'node:util';

import { formatBench } from '../bench/format';
import { AGENT_SCENARIOS, SCENARIOS, scenarioNames } from '../bench/registry';
import { UsageError } from '../errors';

const DEFAULT_PACKETS = 50_000_000;

/* Accepts 50000000, 50_000_000 or 50M. */
function count(text: string, option: string, min: number): number {
  const m = /^([\d_]+)([kMG]?)$/.exec(text);
  const n = m ? Number(m[1]!.replace(/_/g, '')) * ({ '': 1, k: 1e3, M: 1e6, G: 1e9 } as const)[m[2] as '' | 'k' | 'M' | 'G'] : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${option} must be an integer >= ${min}, not ${text}`);
  return n;
}

export async function benchCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      variant: { type: 'string' },
      packets: { type: 'string' },
      warmup: { type: 'string' },
      macs: { type: 'string' },
      routes: { type: 'string' },
      alg: { type: 'string' },
      payload: { type: 'string' },
      size: { type: 'string' },
    },
  });
  const valid = scenarioNames().join(', ');
  if (positionals.length !== 1) throw new UsageError(`bench takes one scenario: ${valid}`);
  const name = positionals[0]!;
  const scenario = SCENARIOS[name] ?? AGENT_SCENARIOS[name];
  if (!scenario) throw new UsageError(`unknown scenario ${name} (valid: ${valid})`);
  const packets = values.packets ? count(values.packets, '--packets', 1) : DEFAULT_PACKETS;
  const warmupPackets = values.warmup ? count(values.warmup, '--warmup', 0) : undefined;
  const macs = values.macs ? count(values.macs, '--macs', 1) : undefined;
  const routes = values.routes ? count(values.routes, '--routes', 1) : undefined;
  const payload = values.payload ? count(values.payload, '--payload', 1) : undefined;
  const sizeMB = values.size ? count(values.size, '--size', 1) : undefined;
  const result = await scenario({ packets, variant: values.variant, warmupPackets, macs, routes, alg: values.alg, payload, sizeMB });
  process.stdout.write((values.json ? JSON.stringify(result) : formatBench(result)) + '\n');
  return 0;
}
