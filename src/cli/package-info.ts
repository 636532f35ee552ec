import * as fs from 'node:fs';
import * as path from 'node:path';

import { PACKAGE_ROOT } from '../dataplane/paths';

/* The agent's version, from package.json (the one source of truth). */
export function packageVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}
