/* Lays out the image tree of one board:
 *
 *   bin/vecgate                     the launcher (images/launcher.sh)
 *   node/bin/node, node/LICENSE     the target's Node runtime
 *   lib/                            shared libraries the dataplane needs beyond glibc (libcrypto.so.3;
 *                                   x86-64 also libIPSec_MB.so.1, found through the variants' NEEDED)
 *   app/package.json                the agent: name, version, dependencies
 *   app/dist/src/**.js              the compiled agent (no .d.ts, no maps)
 *   app/node_modules/               production dependencies for the target CPU
 *   app/native/build/<variant>/libvecgate.so, probe-<family>/libvecgate-probe.so
 *   app/board/                      this architecture's board files and their README
 *   systemd/vecgate.service         the unit (images/vecgate.service.in)
 *   manifest.cbor                   written last (manifest.ts)
 *
 * app/ keeps the package's own layout, so the agent finds its native build,
 * boards and package.json as it does in a checkout. */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { Board } from '../board/schema';
import { NODE_FLAGS, PROCESS_ENV } from '../cli/process-options';
import { VecgateError } from '../errors';
import { isElf, readElf } from './elf';
import { run } from './exec';
import { installModules } from './modules';
import { installNode } from './node-runtime';
import { BUNDLED_LIBS, SYSTEM_LIBS, Target } from './targets';

export const PREFIX = '/opt/vecgate';
export const LAUNCHER = 'bin/vecgate';
export const UNIT = 'systemd/vecgate.service';
export const USER = 'vecgate';

export interface StageInput {
  board: Board;
  boards: string[]; /* board files of this architecture, by name */
  target: Target;
  packageRoot: string;
  nativeBuild: string;
  cacheDir: string;
}

function copyJs(from: string, to: string): void {
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, e.name);
    if (e.isDirectory()) copyJs(src, path.join(to, e.name));
    else if (e.name.endsWith('.js')) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(src, path.join(to, e.name));
    }
  }
}

function agent(input: StageInput, app: string): void {
  const dist = path.join(input.packageRoot, 'dist', 'src');
  if (!fs.existsSync(path.join(dist, 'cli', 'main.js'))) throw new VecgateError('IMAGE_INPUT', `${dist} is not built (run npm run build:ts)`);
  copyJs(dist, path.join(app, 'dist', 'src'));
  installModules(input.target, input.packageRoot, app);
  const pkg = JSON.parse(fs.readFileSync(path.join(input.packageRoot, 'package.json'), 'utf8'));
  const keep = ['name', 'version', 'description', 'license', 'private', 'type', 'main', 'bin', 'engines', 'dependencies'];
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify(Object.fromEntries(keep.filter((k) => k in pkg).map((k) => [k, pkg[k]])), null, 2) + '\n');
}

function stripInto(t: Target, src: string, dst: string): void {
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  run(t.strip, ['--strip-unneeded', '-o', dst, src], { what: `stripping ${src}` });
}

/* Every variant of the family and the probe; a missing one is an error (a
 * box must not lose its best variant because a build was skipped). */
function natives(input: StageInput, app: string): string[] {
  const t = input.target;
  const want = [...t.variants.map((v) => `${v}/libvecgate.so`), `probe-${t.family}/libvecgate-probe.so`];
  const missing = want.filter((f) => !fs.existsSync(path.join(input.nativeBuild, f)));
  if (missing.length) {
    throw new VecgateError('IMAGE_INPUT', `native build of ${t.family} incomplete: missing ${missing.map((f) => path.join(input.nativeBuild, f)).join(', ')} (run npm run build:native)`);
  }
  return want.map((f) => {
    const dst = path.join(app, 'native', 'build', f);
    stripInto(t, path.join(input.nativeBuild, f), dst);
    return dst;
  });
}

function findLib(t: Target, name: string): string {
  for (const dir of t.libDirs) {
    const f = path.join(dir, name);
    if (fs.existsSync(f)) return fs.realpathSync(f);
  }
  const hint = t.family === 'x86_64' ? 'install it (libssl3 for libcrypto.so.3, libipsec-mb1 for libIPSec_MB.so.1)' : 'run native/cross-sysroot';
  throw new VecgateError('IMAGE_INPUT', `${name} for ${t.family} not found in ${t.libDirs.join(', ')} (${hint})`);
}

/* libcrypto and the NEEDED closure of the dataplane beyond what the OS provides, into lib/. */
function libraries(t: Target, binaries: string[], root: string): string[] {
  const lib = path.join(root, 'lib');
  const done = new Set<string>();
  const queue = [...BUNDLED_LIBS, ...binaries.flatMap((b) => readElf(b).needed)];
  while (queue.length) {
    const name = queue.shift()!;
    if (SYSTEM_LIBS.has(name) || done.has(name)) continue;
    done.add(name);
    const src = findLib(t, name);
    const elf = readElf(src);
    if (elf.machine !== t.elfMachine) throw new VecgateError('IMAGE_INPUT', `${src} is not a ${t.family} library`);
    stripInto(t, src, path.join(lib, name));
    queue.push(...elf.needed);
  }
  return [...done].sort();
}

function fromTemplate(file: string, vars: Record<string, string>): string {
  return fs.readFileSync(file, 'utf8').replace(/@([A-Z_]+)@/g, (m, k: string) => {
    if (!(k in vars)) throw new VecgateError('IMAGE_INPUT', `${file}: no value for ${m}`);
    return vars[k]!;
  });
}

/* Same modes whatever the umask: 0755 for directories and executables, 0644 for the rest. */
function normaliseModes(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) normaliseModes(full);
    else if (e.isFile()) fs.chmodSync(full, (fs.statSync(full).mode & 0o111) !== 0 || isElf(full) ? 0o755 : 0o644);
  }
}

export interface Staged {
  libs: string[];
}

export function stage(input: StageInput, root: string): Staged {
  const { board, target: t, packageRoot } = input;
  fs.rmSync(root, { recursive: true, force: true });
  const app = path.join(root, 'app');
  fs.mkdirSync(app, { recursive: true });
  // The native inputs first: a missing variant or library fails before the downloads and installs.
  const libs = libraries(t, natives(input, app), root);
  installNode(t, input.cacheDir, root);
  agent(input, app);
  for (const name of [...input.boards.map((b) => `${b}.json`), 'README.md']) {
    fs.mkdirSync(path.join(app, 'board'), { recursive: true });
    fs.copyFileSync(path.join(packageRoot, 'board', name), path.join(app, 'board', name));
  }
  const images = path.join(packageRoot, 'images');
  fs.mkdirSync(path.join(root, 'bin'));
  const launcher = {
    NODE_FLAGS: NODE_FLAGS.join(' '),
    PROCESS_ENV: Object.entries(PROCESS_ENV).map(([k, v]) => `${k}=\${${k}:-${v}}\nexport ${k}`).join('\n'),
  };
  fs.writeFileSync(path.join(root, LAUNCHER), fromTemplate(path.join(images, 'launcher.sh'), launcher));
  fs.chmodSync(path.join(root, LAUNCHER), 0o755);
  fs.mkdirSync(path.join(root, 'systemd'));
  const memoryMax = board.memory.budgetMiB === null ? 'infinity' : `${board.memory.budgetMiB}M`;
  fs.writeFileSync(
    path.join(root, UNIT),
    fromTemplate(path.join(images, 'vecgate.service.in'), { BOARD: board.name, PREFIX, LAUNCHER, USER, MEMORY_MAX: memoryMax }),
  );
  normaliseModes(root);
  return { libs };
}
