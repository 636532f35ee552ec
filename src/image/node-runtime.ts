/* The Node runtime of an image: the registry's per-architecture package,
 * fetched once with `npm pack` into the cache (npm checks the registry's
 * integrity; we check it against the pin too), and from it only bin/node
 * (stripped) and its LICENSE: no headers, docs, man pages or npm. */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { VecgateError } from '../errors';
import { run } from './exec';
import { NodeRuntime, Target } from './targets';

function integrityOf(file: string): string {
  return `sha512-${createHash('sha512').update(fs.readFileSync(file)).digest('base64')}`;
}

/* The pinned tarball in cacheDir/node/, fetched when missing. */
export function nodeTarball(node: NodeRuntime, cacheDir: string): string {
  const dir = path.join(cacheDir, 'node');
  const file = path.join(dir, `${node.package}-${node.version}.tgz`);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dir, { recursive: true });
    run('npm', ['pack', `${node.package}@${node.version}`, '--pack-destination', dir, '--silent'], { what: `fetching ${node.package}@${node.version}` });
    if (!fs.existsSync(file)) throw new VecgateError('IMAGE_NODE', `npm pack ${node.package}@${node.version} did not write ${file}`);
  }
  const got = integrityOf(file);
  if (got !== node.integrity) {
    throw new VecgateError('IMAGE_NODE', `${file}: integrity ${got} is not the pinned ${node.integrity} (remove it to fetch again)`);
  }
  return file;
}

/* Writes node/bin/node and node/LICENSE under root. */
export function installNode(t: Target, cacheDir: string, root: string): void {
  const tgz = nodeTarball(t.node, cacheDir);
  const tmp = fs.mkdtempSync(path.join(root, '..', '.node-'));
  try {
    run('tar', ['-xzf', tgz, '-C', tmp, 'package/bin/node', 'package/LICENSE'], { what: `unpacking ${path.basename(tgz)}` });
    fs.mkdirSync(path.join(root, 'node', 'bin'), { recursive: true });
    // Symbols and debug info off (14 MB on arm64); .dynsym stays: addons link against it.
    run(t.strip, ['--strip-all', '-o', path.join(root, 'node', 'bin', 'node'), path.join(tmp, 'package', 'bin', 'node')], { what: 'stripping node' });
    fs.copyFileSync(path.join(tmp, 'package', 'LICENSE'), path.join(root, 'node', 'LICENSE'));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
