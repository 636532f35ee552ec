/* vecgate config push|sign|keygen: the operator's side of the MQTT
 * contract. push publishes a JSON, YAML or CBOR document (signed or not)
 * as the retained CBOR config of a device or group, then waits for the
 * device's state report that answers it. */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';

import { sha256 } from '../agent/layers';
import { StateReport } from '../agent/state-report';
import { UsageError, VecgateError } from '../errors';
import { createLogger } from '../log';
import { decodeCbor, encodeCbor, readDocumentFile } from '../transport/codec';
import { signSign1 } from '../transport/cose';
import { LinkMessage, MqttLink } from '../transport/mqtt';
import { Topics } from '../transport/topics';
import { readTls } from '../transport/tls';
import { keygen } from './keygen';

const DEFAULT_BROKER = 'mqtt://127.0.0.1:1883';

export async function configCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'push') return push(rest);
  if (sub === 'sign') return sign(rest);
  if (sub === 'keygen') return keygen(rest, 'config keygen', "list it in the board's agent.trustAnchors");
  throw new UsageError(`config needs push, sign or keygen${sub ? `, not ${sub}` : ''}`);
}

/* The bytes to publish: a COSE_Sign1 file as it is, else the document as CBOR, signed with --sign. */
function payloadOf(file: string, keyFile: string | undefined, kid: string | undefined): { bytes: Buffer; version?: number } {
  const { document, bytes } = readDocumentFile(file);
  const version = (document as { version?: unknown } | null)?.version;
  const v = typeof version === 'number' ? version : undefined;
  if (bytes) {
    if (keyFile) throw new UsageError(`${file} is signed already; leave out --sign`);
    return { bytes, version: v };
  }
  const plain = encodeCbor(document);
  if (!keyFile) return { bytes: plain, version: v };
  return { bytes: signSign1(plain, crypto.createPrivateKey(fs.readFileSync(keyFile)), kid), version: v };
}

async function push(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      device: { type: 'string' },
      group: { type: 'string' },
      fleet: { type: 'string', default: 'demo' },
      broker: { type: 'string', default: DEFAULT_BROKER },
      sign: { type: 'string' },
      kid: { type: 'string' },
      timeout: { type: 'string', default: '10' },
      json: { type: 'boolean' },
      ca: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new UsageError('config push needs one document file');
  if (!values.device && !values.group) throw new UsageError('config push needs --device ID (and/or --group NAME)');
  const timeoutS = Number(values.timeout);
  if (!(timeoutS > 0)) throw new UsageError('--timeout must be a positive number of seconds');
  const { bytes } = payloadOf(positionals[0]!, values.sign, values.kid);
  const digest = sha256(bytes);
  const topics = new Topics(values.fleet!, values.device ?? '-');
  const target = values.group ? topics.groupConfig(values.group) : topics.deviceConfig;
  const log = createLogger({ level: 'warn', pretty: false });
  const link = new MqttLink({
    url: values.broker!,
    tls: readTls({ ca: values.ca, cert: values.cert, key: values.key }, process.cwd()),
    clientId: `vecgate-push-${process.pid}-${Date.now().toString(36)}`,
    subscriptions: values.device ? [topics.state] : [],
    backoff: { minMs: 200, maxMs: 2000 },
    log,
  });
  let answer: StateReport | undefined;
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new VecgateError('PUSH_TIMEOUT', `no answer within ${timeoutS} s (${link.connected ? `device ${values.device} did not report` : `broker ${values.broker} not reached${link.lastError ? `: ${link.lastError}` : ''}`})`)),
      timeoutS * 1000,
    );
    link.on('message', (m: LinkMessage) => {
      let s: StateReport;
      try {
        s = decodeCbor(m.payload) as StateReport;
      } catch {
        return;
      }
      const applied = s.sources?.some((x) => x.sha256 === digest);
      const refused = s.rejected?.sha256 === digest;
      if (!applied && !refused) return;
      answer = s;
      clearTimeout(timer);
      resolve();
    });
    link.on('up', () => {
      link.publish(target, bytes, true).then(
        () => {
          if (!values.device) {
            answer = undefined;
            clearTimeout(timer);
            resolve();
          }
        },
        (e) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  });
  link.start();
  try {
    await done;
  } finally {
    await link.close();
  }
  if (!answer) {
    process.stdout.write(`published ${bytes.length} bytes to ${target}\n`);
    return 0;
  }
  if (values.json) process.stdout.write(JSON.stringify(answer) + '\n');
  else process.stdout.write(formatAnswer(answer, digest));
  const refused = answer.rejected?.sha256 === digest;
  return refused || (answer.counts?.FAILED ?? 0) > 0 ? 1 : 0;
}

export function formatAnswer(s: StateReport, digest: string): string {
  if (s.rejected?.sha256 === digest) {
    const lines = [`device ${s.device} refused the document (${s.rejected.source}); it still runs version ${s.version}:`];
    for (const p of s.rejected.problems) lines.push(`  ${p.path}: ${p.reason}`);
    return lines.join('\n') + '\n';
  }
  const counts = Object.entries(s.counts ?? {})
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const lines = [`device ${s.device} applied version ${s.version}: ${counts || 'no items'}`];
  for (const [key, st] of Object.entries(s.items ?? {})) {
    if (st.state === 'PENDING') lines.push(`  PENDING ${key}: ${st.reason}`);
    if (st.state === 'FAILED') lines.push(`  FAILED  ${key}: ${st.error}`);
  }
  if (s.commitConfirm) lines.push(`  commit-confirm: ${s.commitConfirm.state} (${s.commitConfirm.seconds} s)`);
  return lines.join('\n') + '\n';
}

function sign(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { key: { type: 'string' }, kid: { type: 'string' }, out: { type: 'string' } },
  });
  if (positionals.length !== 1 || !values.key || !values.out) throw new UsageError('config sign <file> --key KEY.pem --out FILE.cbor [--kid ID]');
  const { bytes } = payloadOf(positionals[0]!, values.key, values.kid);
  fs.writeFileSync(values.out, bytes);
  process.stdout.write(`signed ${positionals[0]} -> ${values.out} (${bytes.length} bytes, sha256 ${sha256(bytes)})\n`);
  return 0;
}
