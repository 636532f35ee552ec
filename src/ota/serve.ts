/* A small HTTP/1.1 server for OTA bundles in a folder, with Range (RFC
 * 9110 section 14), for a lab or a bench (`vecgate ota serve`, `vecgate
 * bench ota-install`) and the tests. It can also behave like a flaky link
 * (a connection dropped after some bytes, a slow link, a server that
 * ignores Range) and logs every request, so a test sees where a download
 * resumed. */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';

export interface ServedRequest {
  path: string;
  range: string | null;
  status: number;
  bytesSent: number;
}

export interface Faults {
  /* The next `count` responses are cut after `bytes` body bytes. */
  dropAfter?: { bytes: number; count: number };
  /* Body bytes per second (0: as fast as the socket goes). */
  bytesPerSecond?: number;
  ignoreRange?: boolean;
}

export class BundleServer {
  private server?: http.Server;
  private scheme = 'http';
  readonly requests: ServedRequest[] = [];
  /* Keep the request log (tests); a long-running server leaves it off. */
  logRequests = true;
  faults: Faults = {};
  port = 0;

  constructor(private readonly root: string) {}

  /* With `tls` (a PEM key and certificate), https. */
  async listen(port = 0, host = '127.0.0.1', tls?: { key: Buffer; cert: Buffer }): Promise<void> {
    const handle = (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res);
    this.server = tls ? https.createServer(tls, handle) : http.createServer(handle);
    this.scheme = tls ? 'https' : 'http';
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, resolve);
    });
    this.port = (this.server.address() as { port: number }).port;
  }

  url(file: string): string {
    return `${this.scheme}://127.0.0.1:${this.port}/${file}`;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).slice(1);
    const file = path.join(this.root, path.basename(name));
    const log: ServedRequest = { path: name, range: req.headers.range ?? null, status: 0, bytesSent: 0 };
    if (this.logRequests) this.requests.push(log);
    let size: number;
    try {
      size = fs.statSync(file).size;
    } catch {
      log.status = 404;
      res.writeHead(404).end('not found');
      return;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && !this.faults.ignoreRange) {
      start = Number(m[1]);
      if (start >= size) {
        log.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      log.status = 206;
      res.writeHead(206, { 'content-length': size - start, 'content-range': `bytes ${start}-${size - 1}/${size}`, 'accept-ranges': 'bytes' });
    } else {
      log.status = 200;
      res.writeHead(200, { 'content-length': size, 'accept-ranges': 'bytes' });
    }
    const drop = this.faults.dropAfter && this.faults.dropAfter.count > 0 ? this.faults.dropAfter : undefined;
    if (drop) drop.count--;
    const rate = this.faults.bytesPerSecond ?? 0;
    const stream = fs.createReadStream(file, { start, highWaterMark: rate ? Math.max(1024, Math.floor(rate / 20)) : 256 * 1024 });
    stream.on('data', (chunk) => {
      let piece = chunk as Buffer;
      if (drop && log.bytesSent + piece.length >= drop.bytes) {
        piece = piece.subarray(0, drop.bytes - log.bytesSent);
        res.write(piece);
        log.bytesSent += piece.length;
        stream.destroy();
        /* Let the bytes go, then cut the connection mid-body. */
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      log.bytesSent += piece.length;
      const full = !res.write(piece);
      if (rate) {
        stream.pause();
        setTimeout(() => stream.resume(), (piece.length / rate) * 1000);
      } else if (full) {
        stream.pause();
        res.once('drain', () => stream.resume());
      }
    });
    stream.on('end', () => res.end());
    res.on('close', () => stream.destroy());
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
