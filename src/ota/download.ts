/* Where a bundle comes from: an HTTP(S) URL read with Range requests, so a
 * dropped link resumes where it stopped, or a local file (`vecgate ota
 * install FILE`). A source only delivers bytes from an offset; what they
 * are is checked by the installer (signature, then each chunk's hash). */
import * as fs from 'node:fs';
import type * as http from 'node:http';
import { Readable, Transform } from 'node:stream';

import { OtaError } from '../errors';

export interface SourceStream {
  stream: Readable;
  /* The bundle's whole length when the server says it. */
  total: number | null;
}

export interface BundleSource {
  readonly describe: string;
  /* The bundle's bytes from `start` to its end. */
  open(start: number, signal?: AbortSignal): Promise<SourceStream>;
}

export interface HttpOptions {
  ca?: Buffer; /* a CA to trust for https:// beside the system's (the fleet's own) */
  cert?: Buffer; /* a client certificate and key, for servers that ask for one */
  key?: Buffer;
  idleTimeoutMs?: number; /* no byte for this long: the attempt fails (and is retried) */
}

const MAX_REDIRECTS = 5;
const TLS_REFUSALS = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT_ALTNAME_INVALID|ERR_SSL/;
const IDLE_TIMEOUT_MS = 30_000;
/* Large reads: fewer, bigger pushes through the verifier. */
const READ_BYTES = 256 * 1024;

/* Errors worth another attempt: the link, not the bundle. */
export class TransientError extends OtaError {
  constructor(reason: string) {
    super('OTA_DOWNLOAD', reason);
  }
}

export function openSource(where: string, opts: HttpOptions = {}): BundleSource {
  if (/^https?:\/\//i.test(where)) return httpSource(new URL(where), opts);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(where)) throw new OtaError('OTA_URL', `${where}: only http://, https:// and file paths can be installed from`);
  return fileSource(where);
}

function fileSource(file: string): BundleSource {
  return {
    describe: file,
    async open(start) {
      let size: number;
      try {
        size = fs.statSync(file).size;
      } catch (e) {
        throw new OtaError('OTA_SOURCE', `${file}: ${(e as Error).message}`);
      }
      if (start > size) throw new OtaError('OTA_TRUNCATED', `${file} is ${size} bytes; cannot resume at byte ${start}`);
      return { stream: fs.createReadStream(file, { start, highWaterMark: READ_BYTES }), total: size };
    },
  };
}

function httpSource(url: URL, opts: HttpOptions): BundleSource {
  return {
    describe: url.toString(),
    open: (start, signal) => get(url, start, opts, signal, 0),
  };
}

/* http, https and tls are loaded on the first download, not with the agent
 * (measured: 0.4 MB less of the node binary resident after a cold start;
 * bench/README.md). */
const rootCertificates = () => (require('node:tls') as typeof import('node:tls')).rootCertificates;

function get(url: URL, start: number, opts: HttpOptions, signal: AbortSignal | undefined, redirects: number): Promise<SourceStream> {
  const lib = url.protocol === 'https:' ? (require('node:https') as typeof import('node:https')) : (require('node:http') as typeof http);
  const headers: Record<string, string> = { 'user-agent': 'vecgate-ota' };
  if (start > 0) headers.range = `bytes=${start}-`;
  return new Promise((resolve, reject) => {
    const tlsOptions = url.protocol === 'https:' ? { ...(opts.ca ? { ca: [...rootCertificates(), opts.ca.toString()] } : {}), ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}) } : {};
    const req = lib.get(url, { headers, signal, ...tlsOptions }, (res) => {
      const status = res.statusCode ?? 0;
      const fail = (e: OtaError) => {
        res.resume();
        reject(e);
      };
      if (status >= 300 && status < 400 && res.headers.location) {
        if (redirects >= MAX_REDIRECTS) return fail(new OtaError('OTA_HTTP', `${url}: more than ${MAX_REDIRECTS} redirects`));
        res.resume();
        return resolve(get(new URL(res.headers.location, url), start, opts, signal, redirects + 1));
      }
      if (status === 416) return fail(new OtaError('OTA_TRUNCATED', `${url}: the server has no byte ${start} (416): the bundle there is shorter than its manifest says`));
      if (status >= 500 || status === 408 || status === 429) return fail(new TransientError(`${url}: HTTP ${status}`));
      if (status !== 200 && status !== 206) return fail(new OtaError('OTA_HTTP', `${url}: HTTP ${status} ${res.statusMessage ?? ''}`.trimEnd()));
      const length = res.headers['content-length'] === undefined ? null : Number(res.headers['content-length']);
      let total: number | null = null;
      let stream: Readable = res;
      if (status === 206) {
        const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers['content-range'] ?? '');
        if (!m || Number(m[1]) !== start) return fail(new OtaError('OTA_HTTP', `${url}: asked for bytes from ${start}, got Content-Range ${JSON.stringify(res.headers['content-range'] ?? null)}`));
        total = m[3] === '*' ? null : Number(m[3]);
      } else {
        total = length;
        /* A server that ignores Range sends it all: skip what we have. */
        if (start > 0) stream = res.pipe(skipBytes(start));
      }
      res.setTimeout(opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS, () => res.destroy(new TransientError(`${url}: no data for ${(opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS) / 1000} s`)));
      resolve({ stream, total });
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e.name === 'AbortError') reject(e);
      /* A certificate the box does not trust will not become trusted by asking again. */
      else if (TLS_REFUSALS.test(e.code ?? '')) reject(new OtaError('OTA_TLS', `${url}: ${e.message} (${e.code})`));
      else reject(new TransientError(`${url}: ${e.message}`));
    });
    req.setTimeout(opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS, () => req.destroy(new TransientError(`${url}: no answer for ${(opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS) / 1000} s`)));
  });
}

function skipBytes(n: number): Transform {
  let left = n;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (left >= chunk.length) {
        left -= chunk.length;
        return done();
      }
      const rest = left ? chunk.subarray(left) : chunk;
      left = 0;
      done(null, rest);
    },
  });
}

/* An error from the response stream mid-body (reset, idle timeout) is the link's. */
export function asTransient(e: unknown, where: string): unknown {
  if (e instanceof OtaError) return e;
  const err = e as NodeJS.ErrnoException;
  if (err?.name === 'AbortError') return e;
  return new TransientError(`${where}: ${err?.message ?? String(e)}`);
}
