/* The ESP scenarios' reference: OpenSSL's own single-core rate for a cipher
 * on 8192-byte blocks, `openssl speed -evp` pinned to one core with
 * taskset, measured in the same run. */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';

import { CryptoAlg, IntegrityAlg, isGcm } from '../net/esp';

export const OPENSSL_BLOCK = 8192;

export interface OpensslSpeed {
  cipher: string;
  command: string;
  bytesPerSecond: number | null; /* null: not measured (`error` says why) */
  error?: string;
}

/* OpenSSL's EVP cipher for an ESP algorithm: GCM as is; AES-CBC with
 * HMAC-SHA1 or HMAC-SHA-256 as OpenSSL's stitched cipher (one pass over the
 * data, the fastest it has); other HMACs: the CBC cipher alone. */
export function opensslCipher(crypto: CryptoAlg, integrity: IntegrityAlg): string {
  if (isGcm(crypto)) return crypto;
  if (integrity === 'hmac-sha1-96') return `${crypto}-hmac-sha1`;
  if (integrity === 'hmac-sha-256-128') return `${crypto}-hmac-sha256`;
  return crypto;
}

/* Parses "AES-128-GCM    4134486.02k": thousands of bytes per second. */
export function parseSpeed(stdout: string): number | null {
  const m = /^\S+\s+([\d.]+)k\s*$/m.exec(stdout);
  return m ? Math.round(Number(m[1]) * 1000) : null;
}

export function opensslSpeed(cipher: string, decrypt: boolean): OpensslSpeed {
  const core = String(os.cpus().length - 1);
  const args = ['-c', core, 'openssl', 'speed', '-bytes', String(OPENSSL_BLOCK), ...(decrypt ? ['-decrypt'] : []), '-evp', cipher];
  const command = `taskset ${args.join(' ')}`;
  const r = spawnSync('taskset', args, { encoding: 'utf8', timeout: 120_000 });
  const bytesPerSecond = r.status === 0 ? parseSpeed(r.stdout) : null;
  if (bytesPerSecond !== null) return { cipher, command, bytesPerSecond };
  const why = r.error?.message ?? (r.stderr.trim().split('\n').pop() || `exit ${r.status}, no ${OPENSSL_BLOCK}-byte figure`);
  return { cipher, command, bytesPerSecond: null, error: why };
}
