/* Production node_modules for the target CPU: `npm ci --omit=dev` with
 * npm's --cpu/--os so the optional per-architecture packages (koffi's and
 * cbor-extract's prebuilt addons) are the target's, install scripts off
 * (koffi's would compile a useless host build). One lockfile serves every
 * architecture. Then what no box runs goes: types, maps, docs, tests, musl
 * builds, C sources (install scripts never run). */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { run } from './exec';
import { Target } from './targets';

const DROP_FILE = [/\.d\.[mc]?ts$/, /\.map$/, /(?<!\.d)\.ts$/, /\.musl\.node$/, /\.(c|cc|cpp|h|hh|hpp|S|asm|inc|def|gyp|gypi)$/, /^(README|CHANGELOG|HISTORY|CONTRIBUTING|SECURITY|CODE_OF_CONDUCT)(\..*)?$/i, /\.md$/i];
const KEEP_FILE = /^(LICEN[CS]E|COPYING|NOTICE)/i;
const DROP_DIR = new Set(['test', 'tests', '__tests__', 'fixture', 'fixtures', 'coverage', 'example', 'examples', 'docs', 'doc', '.github', 'benchmark', 'benchmarks', '@types']);
const DROP_PATH = [/^koffi\/vendor$/, /^@koromix\/koffi-linux-[^/]+\/musl_[^/]+$/];

function prune(dir: string, rel = ''): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (DROP_DIR.has(e.name) || DROP_PATH.some((p) => p.test(r))) fs.rmSync(full, { recursive: true, force: true });
      else prune(full, r);
    } else if (!KEEP_FILE.test(e.name) && DROP_FILE.some((p) => p.test(e.name))) {
      fs.rmSync(full);
    }
  }
}

/* npm's own settings from a parent `npm run` must not leak into this install. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) || /^npm_config_(cache|registry|userconfig)$/i.test(k)) env[k] = v;
  return env;
}

/* Installs into app/node_modules from the package's package.json and lockfile. */
export function installModules(t: Target, packageRoot: string, app: string): void {
  for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(packageRoot, f), path.join(app, f));
  run(
    'npm',
    ['ci', '--omit=dev', `--cpu=${t.npmCpu}`, '--os=linux', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
    { what: `production node_modules for ${t.family}`, cwd: app, env: cleanEnv() },
  );
  fs.rmSync(path.join(app, 'package-lock.json'));
  fs.rmSync(path.join(app, 'node_modules', '.package-lock.json'), { force: true });
  prune(path.join(app, 'node_modules'));
}
