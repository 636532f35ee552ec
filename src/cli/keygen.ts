/* `config keygen` and `ota keygen`: an Ed25519 key pair as DIR/NAME.key.pem
 * (PKCS#8, mode 0600: the signer keeps it) and DIR/NAME.pub.pem (SPKI: the
 * trust anchor the boxes hold). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { UsageError } from '../errors';
import { generateSigningKey } from '../transport/cose';

export function keygen(args: string[], command: string, anchorUse: string): number {
  const { values } = parseArgs({ args, options: { out: { type: 'string' }, name: { type: 'string', default: 'fleet' } } });
  if (!values.out) throw new UsageError(`${command} --out DIR [--name NAME]`);
  fs.mkdirSync(values.out, { recursive: true });
  const k = generateSigningKey();
  const priv = path.join(values.out, `${values.name}.key.pem`);
  const pub = path.join(values.out, `${values.name}.pub.pem`);
  fs.writeFileSync(priv, k.privateKey, { mode: 0o600 });
  fs.writeFileSync(pub, k.publicKey);
  process.stdout.write(`${priv}\n${pub} (a trust anchor: ${anchorUse})\n`);
  return 0;
}
