#!/usr/bin/env node
/* vecgate: the command line. One subcommand per file; this file only
 * dispatches and turns errors into one line on stderr and an exit code. */
import { UsageError } from '../errors';
import { restoreLauncherEnv } from './launcher-env';

type Command = (args: string[]) => number | Promise<number>;

/* Loaded on use: `run` must not pay for what `bench` or `config` load. */
const COMMANDS: Readonly<Record<string, () => Command>> = {
  version: () => (require('./version') as typeof import('./version')).versionCommand,
  bench: () => (require('./bench') as typeof import('./bench')).benchCommand,
  run: () => (require('./run') as typeof import('./run')).runCommand,
  config: () => (require('./config') as typeof import('./config')).configCommand,
  ctl: () => (require('./ctl') as typeof import('./ctl')).ctlCommand,
  selftest: () => (require('./selftest') as typeof import('./selftest')).selftestCommand,
  image: () => (require('./image') as typeof import('./image')).imageCommand,
  ota: () => (require('./ota') as typeof import('./ota')).otaCommand,
};

const USAGE = `usage: vecgate <command> [options]
  version [--json]                                   agent, node and dataplane variant
  bench <scenario> [--json] [--variant V] [--packets N]
  run --board NAME|PATH [--broker URL|none] [--device ID] [--fleet F] [--group G]...
      [--state-dir DIR] [--embedded-port N] [--telemetry CRON | --no-telemetry] [--log-level L] [--variant V]
      [--cli-socket PATH|none] [--console-tty PATH|none] [--console-baud N]
  ctl [--socket PATH] [--json] [command ...]         the console of a running vecgate (interactive without a command)
  selftest [--board NAME|PATH] [--variant V] [--packets N] [--json]
                                                     forward through the IPv4 and L2 paths, check the counters, exit 0/1
  image build --board NAME [--out DIR] [--json]      the board's runtime image in out/<board>/ (images/README.md)
  config push FILE (--device ID | --group G) [--fleet F] [--broker URL] [--sign KEY.pem] [--timeout S] [--json]
      [--ca CA.pem] [--cert CERT.pem --key KEY.pem]   (mqtts://)
  config sign FILE --key KEY.pem --out FILE.cbor [--kid ID]
  config keygen --out DIR [--name NAME]
  ota keygen --out DIR [--name NAME]                 an Ed25519 pair for signing bundles (ota/README.md)
  ota sign (--image FILE --arch A --boards a,b | --board NAME [--images DIR]) --key KEY.pem --version V
      --security-version N [--chunk-size BYTES] [--kid ID] [--name NAME] --out FILE.vgb [--json]
  ota verify FILE --trust [KID=]PUB.pem[,...] [--board B] [--arch A] [--security-version N] [--json]
                                                     signature, manifest and every chunk; exit 0/1
  ota inspect FILE [--json]                          the manifest, the signature not checked
  ota install URL|FILE --board B [--state-dir D] [--trust PUB.pem] [--health-seconds N] [--json]
                                                     into the slot not running; the next boot tries it
  ota status --board B [--state-dir D] [--json]      the slots, the boot chooser, the last install
  ota boot --board B                                 the file chooser's firmware step (sim board, tests)
  ota serve DIR [--port N] [--host H]                bundles over HTTP with Range (a lab, the bench)`;

/* node:util parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes for misuse. */
function isUsageError(e: unknown): boolean {
  return e instanceof UsageError || String((e as { code?: unknown })?.code ?? '').startsWith('ERR_PARSE_ARGS');
}

export async function main(argv: string[]): Promise<number> {
  restoreLauncherEnv();
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE + '\n');
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  try {
    if (!command) throw new UsageError(`unknown command ${name} (valid: ${Object.keys(COMMANDS).join(', ')})`);
    return await command()(args);
  } catch (e) {
    const usage = isUsageError(e);
    process.stderr.write(`vecgate: ${(e as Error)?.message ?? String(e)}\n`);
    if (usage) process.stderr.write(USAGE + '\n');
    return usage ? 2 : 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
