/* vecgate version [--json]: the agent, Node and the dataplane variant this
 * CPU gets (what `show version` reports). */
import { parseArgs } from 'node:util';

import { Binding } from '../dataplane/binding';
import { selectVariant } from '../dataplane/variant';
import { packageVersion } from './package-info';

export function versionInfo(variant?: string) {
  const v = selectVariant({ variant });
  return {
    version: packageVersion(),
    node: process.version,
    dataplane: {
      variant: v.variant,
      built: v.built,
      cpuFeatures: v.cpuFeatures,
      arch: v.arch,
      apiVersion: Binding.load(v.libraryPath).apiVersion(),
      libraryPath: v.libraryPath,
    },
  };
}

export function versionCommand(args: string[]): number {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' }, variant: { type: 'string' } } });
  const info = versionInfo(values.variant);
  if (values.json) {
    process.stdout.write(JSON.stringify(info) + '\n');
    return 0;
  }
  const d = info.dataplane;
  process.stdout.write(
    [
      `vecgate ${info.version} (node ${info.node})`,
      `dataplane: ${d.variant} (api ${d.apiVersion}, ${d.libraryPath})`,
      `built variants: ${d.built.join(' ')}`,
      `cpu (${d.arch}): ${d.cpuFeatures.join(' ')}`,
    ].join('\n') + '\n',
  );
  return 0;
}
