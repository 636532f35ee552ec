/* vecgate image build --board NAME [--out DIR] [--json]: the board's
 * runtime image (src/image/build.ts, images/README.md). */
import { parseArgs } from 'node:util';

import { UsageError } from '../errors';
import { buildImage, BuildResult } from '../image/build';

const MB = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

function summary(r: BuildResult): string {
  return [
    `image ${r.board} (${r.arch}): ${r.squashfs}`,
    `  squashfs ${MB(r.squashfsBytes)} (${r.squashfsBytes} bytes), tree ${MB(r.treeBytes)}, built in ${r.seconds.toFixed(1)} s`,
    `  node ${r.node}; variants ${r.variants.join(', ')}; libs ${r.libs.join(', ') || 'none'}; times ${r.epoch}`,
    `  largest: ${r.largest.map((f) => `${f.path} ${MB(f.size)}`).join(', ')}`,
  ].join('\n');
}

export function imageCommand(args: string[]): number {
  const [sub, ...rest] = args;
  if (sub !== 'build') throw new UsageError(`image needs a subcommand: build (not ${sub ?? 'nothing'})`);
  const { values } = parseArgs({ args: rest, options: { board: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } } });
  if (!values.board) throw new UsageError('image build needs --board NAME');
  const r = buildImage({ board: values.board, outDir: values.out });
  for (const w of r.warnings) process.stderr.write(`vecgate: warning: ${w}\n`);
  process.stdout.write((values.json ? JSON.stringify(r) : summary(r)) + '\n');
  return 0;
}
