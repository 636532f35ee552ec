/* Installing a bundle into the inactive slot: the signed head is fetched
 * and verified (signature, board, architecture, security version) before
 * one byte of the slot is touched; then the payload streams through the
 * chunk verifier straight into the slot, each chunk checked before it is
 * written, never the whole bundle in memory or in a temporary file. The
 * journal (store.ts) records how many bytes were verified and written, so a
 * dropped link resumes with a Range request and a power cut resumes after
 * the next start. What a power cut lost is found by re-hashing the slot's
 * chunks up to that mark (intactChunks), so the checkpoints need not wait
 * for the disk: only the end does, before the slot is read back and
 * offered to the firmware. */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

import { collectGarbage } from '../agent/memory';
import { OtaError } from '../errors';
import type { TrustAnchor } from '../transport/cose';
import type { BootChooser, Slot } from './boot-chooser';
import { BundleHead, ChunkVerifier, checkManifest, parseBundleHead } from './bundle';
import { asTransient, BundleSource, TransientError } from './download';
import { failpoint } from './failpoint';
import type { OtaJob } from './job';
import { BundleSummary, Journal, newJournal, otherSlot, OtaStore } from './store';

/* Payload bytes between journal entries: what a kill can cost to fetch again. */
const CHECKPOINT_BYTES = 8 << 20;

export interface InstallProgress {
  phase: 'downloading' | 'verifying';
  bytes: number; /* payload bytes verified and written */
  total: number; /* the payload's size; 0 until the head is in */
}

export interface RetryPolicy {
  /* Attempts in a row that bring no new verified byte before giving up. */
  stalls: number;
  minMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { stalls: 8, minMs: 500, maxMs: 30_000 };

export interface InstallContext {
  store: OtaStore;
  chooser: BootChooser;
  anchors: readonly TrustAnchor[];
  board: string;
  arch: string;
  slots: Record<Slot, string>; /* each slot's block device or file */
  booted: Slot;
  source: BundleSource;
  job: OtaJob;
  retry?: Partial<RetryPolicy>;
  onProgress?: (p: InstallProgress) => void;
  signal?: AbortSignal;
  log?: { info(o: object, msg: string): void; warn(o: object, msg: string): void };
}

function summary(h: BundleHead): BundleSummary {
  const m = h.manifest;
  return { name: m.name, version: m.version, securityVersion: m.securityVersion, size: m.payload.size, sha256: m.payload.sha256.toString('hex'), digest: h.digest.toString('hex') };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    }, { once: true });
  });

/* How many bytes a slot can hold: a regular file grows; a block device has its size in sysfs. */
export function slotCapacity(file: string): number {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return Infinity; /* a file slot, made on first use */
    throw e;
  }
  if (st.isFile()) return Infinity;
  if (!st.isBlockDevice()) throw new OtaError('OTA_SLOT', `${file} is neither a block device nor a regular file`);
  const major = Math.floor(st.rdev / 256) & 0xfff;
  const minor = (st.rdev & 0xff) | ((Math.floor(st.rdev / 4096) & 0xfff00));
  return Number(fs.readFileSync(`/sys/dev/block/${major}:${minor}/size`, 'utf8').trim()) * 512;
}

/* The head of the bundle, from its first bytes (parseBundleHead says how many it needs). */
async function fetchHead(ctx: InstallContext): Promise<{ head: BundleHead; headBytes: Buffer; rest: AsyncIterator<Buffer> & { destroy(): void }; restFirst: Buffer }> {
  const { stream } = await ctx.source.open(0, ctx.signal);
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const destroy = () => stream.destroy();
  let got = Buffer.alloc(0);
  try {
    for (;;) {
      const r = parseBundleHead(got, ctx.anchors);
      if (!('need' in r)) {
        const headBytes = Buffer.from(got.subarray(0, r.headBytes));
        return { head: r, headBytes, rest: Object.assign(it, { destroy }), restFirst: got.subarray(r.headBytes) };
      }
      const n = await it.next();
      if (n.done) throw new OtaError('OTA_TRUNCATED', `${ctx.source.describe} ends after ${got.length} bytes, inside the bundle's head (${r.need} bytes needed)`);
      got = Buffer.concat([got, n.value]);
    }
  } catch (e) {
    destroy();
    throw asTransient(e, ctx.source.describe);
  }
}

function chunkReadsBack(fd: number, p: BundleHead['manifest']['payload'], i: number, buf: Buffer): boolean {
  const len = Math.min(p.chunkSize, p.size - i * p.chunkSize);
  const n = fs.readSync(fd, buf, 0, len, i * p.chunkSize);
  return n === len && createHash('sha256').update(buf.subarray(0, len)).digest().equals(p.chunks[i]!);
}

/* Re-reads what a slot holds against the manifest's chunk hashes: the
 * number of leading chunks that are intact (a resume starts after them). */
function intactChunks(fd: number, head: BundleHead, upTo: number): number {
  const p = head.manifest.payload;
  const buf = Buffer.allocUnsafe(p.chunkSize);
  for (let i = 0; i < upTo; i++) if (!chunkReadsBack(fd, p, i, buf)) return i;
  return upTo;
}

/* Every chunk was checked before it was written; after the sync, the first
 * and the last are read back, which catches a slot that does not keep what
 * is written at its offsets (too small, the wrong device). Reading it all
 * back would read the page cache, not the medium, at the cost of hashing
 * the payload twice. */
function readBack(fd: number, head: BundleHead, slotPath: string): void {
  const p = head.manifest.payload;
  const buf = Buffer.allocUnsafe(p.chunkSize);
  for (const i of new Set([0, p.chunks.length - 1])) {
    if (!chunkReadsBack(fd, p, i, buf)) throw new OtaError('OTA_SLOT', `${slotPath}: chunk ${i} does not read back as written`);
  }
}

/* Downloads, verifies and writes the bundle into the slot that is not
 * running, resuming a journal of the same job. Returns the journal in phase
 * 'written'. Refusals throw OtaError; the running slot is never touched. */
export async function installBundle(ctx: InstallContext, resume?: Journal): Promise<Journal> {
  const unlock = ctx.store.lock();
  try {
    return await install(ctx, resume);
  } finally {
    unlock();
  }
}

/* The boot chooser tries the written slot from the next boot on. */
export async function switchToTrial(store: OtaStore, chooser: BootChooser, j: Journal): Promise<Journal> {
  await chooser.startTrial(j.slot);
  failpoint('switch');
  return store.advance(j, 'switched');
}

async function install(ctx: InstallContext, resume?: Journal): Promise<Journal> {
  const retry = { ...DEFAULT_RETRY, ...ctx.retry };
  const target = otherSlot(ctx.booted);
  const slotPath = ctx.slots[target];
  const state = await ctx.chooser.read();
  /* The firmware must not try a slot while it is rewritten. */
  if (state.trial === target) await ctx.chooser.cancelTrial();

  let journal: Journal;
  let head: BundleHead | undefined;
  let startChunk = 0;
  if (resume && resume.phase === 'downloading' && resume.slot === target && resume.job.id === ctx.job.id && resume.job.url === ctx.job.url) {
    const saved = ctx.store.head();
    const parsed = saved ? parseBundleHead(saved, ctx.anchors) : null;
    if (parsed && !('need' in parsed) && parsed.digest.toString('hex') === resume.bundle?.digest) {
      head = parsed;
      journal = resume;
    } else {
      journal = { ...resume, verifiedBytes: 0 };
    }
  } else {
    journal = newJournal(ctx.job, ctx.booted, 'downloading');
  }

  let fd = -1;
  let stalls = 0;
  let delay = retry.minMs;
  try {
    for (;;) {
      const before = journal.verifiedBytes;
      try {
        let it: (AsyncIterator<Buffer> & { destroy(): void }) | undefined;
        let first: Buffer | undefined;
        if (!head) {
          const h = await fetchHead(ctx);
          head = h.head;
          checkManifest(head.manifest, { board: ctx.board, arch: ctx.arch, securityVersion: ctx.store.slots().securityFloor });
          if (ctx.job.version !== undefined && head.manifest.version !== ctx.job.version) {
            h.rest.destroy();
            throw new OtaError('OTA_VERSION', `the job asks for version ${ctx.job.version}; the bundle at ${ctx.source.describe} is version ${head.manifest.version}`);
          }
          const size = head.manifest.payload.size;
          const capacity = slotCapacity(slotPath);
          if (size > capacity) {
            h.rest.destroy();
            throw new OtaError('OTA_SLOT', `the payload is ${size} bytes; slot ${target} (${slotPath}) holds ${capacity}`);
          }
          /* From here the slot's old image is gone: no record, no trial. */
          ctx.store.setSlot(target, null);
          ctx.store.saveHead(h.headBytes);
          journal = ctx.store.advance(journal, 'downloading', { bundle: summary(head), verifiedBytes: 0, error: undefined });
          it = h.rest;
          first = h.restFirst;
        }
        const p = head.manifest.payload;
        if (fd < 0) fd = fs.openSync(slotPath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
        if (!it && journal.verifiedBytes > 0) {
          /* After a restart: trust only what reads back right. */
          startChunk = intactChunks(fd, head, Math.floor(journal.verifiedBytes / p.chunkSize));
        } else {
          startChunk = Math.floor(journal.verifiedBytes / p.chunkSize);
        }
        const verifier = new ChunkVerifier(p, startChunk);
        if (!it && startChunk === p.chunks.length) {
          /* Cut off after the last chunk was synced: nothing left to fetch. */
          it = Object.assign((async function* () {})() as AsyncIterator<Buffer>, { destroy: () => undefined });
        }
        if (!it) {
          const { stream } = await ctx.source.open(head.headBytes + startChunk * p.chunkSize, ctx.signal);
          it = Object.assign(stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>, { destroy: () => stream.destroy() });
        }
        ctx.log?.info({ slot: target, from: startChunk * p.chunkSize, size: p.size, source: ctx.source.describe }, startChunk ? 'resuming the download' : 'downloading');
        let synced = verifier.verifiedBytes;
        let flushing: Promise<void> | undefined;
        const write = async (data: Buffer) => {
          for (const c of verifier.push(data)) {
            let off = 0;
            while (off < c.data.length) off += fs.writeSync(fd, c.data, off, c.data.length - off, c.offset + off);
            failpoint('download');
          }
          if (verifier.verifiedBytes - synced >= CHECKPOINT_BYTES) {
            synced = verifier.verifiedBytes;
            journal = ctx.store.advance(journal, 'downloading', { verifiedBytes: synced });
            /* The disk writes what is written so far while the download goes on. */
            flushing ??= new Promise<void>((resolve) => fs.fdatasync(fd, () => resolve())).then(() => void (flushing = undefined));
            /* The response's buffers are garbage now: collected here, not after 64 MB (V8's external-memory trigger). */
            collectGarbage('minor');
          }
          ctx.onProgress?.({ phase: 'downloading', bytes: verifier.verifiedBytes, total: p.size });
        };
        try {
          if (first?.length) await write(first);
          for (;;) {
            const n = await it.next().catch((e: unknown) => {
              throw asTransient(e, ctx.source.describe);
            });
            if (n.done) break;
            await write(n.value);
          }
        } finally {
          it.destroy();
          await flushing;
          if (verifier.verifiedBytes > journal.verifiedBytes) journal = ctx.store.advance(journal, 'downloading', { verifiedBytes: verifier.verifiedBytes });
        }
        verifier.end();
        ctx.onProgress?.({ phase: 'verifying', bytes: p.size, total: p.size });
        if (fs.fstatSync(fd).isFile()) fs.ftruncateSync(fd, p.size);
        fs.fsyncSync(fd);
        readBack(fd, head, slotPath);
        failpoint('written');
        ctx.store.setSlot(target, { ...summary(head), installedAt: new Date().toISOString() });
        return (journal = ctx.store.advance(journal, 'written', { verifiedBytes: p.size }));
      } catch (e) {
        if (!(e instanceof TransientError) && !(e instanceof OtaError && e.code === 'OTA_TRUNCATED' && journal.verifiedBytes > before)) throw e;
        stalls = journal.verifiedBytes > before ? 1 : stalls + 1;
        if (journal.verifiedBytes > before) delay = retry.minMs;
        if (stalls >= retry.stalls) throw new OtaError(e instanceof OtaError ? e.code : 'OTA_DOWNLOAD', `${(e as OtaError).reason ?? (e as Error).message} (gave up after ${stalls} attempts without progress)`);
        ctx.log?.warn({ err: (e as Error).message, verified: journal.verifiedBytes, retryInMs: delay }, 'download interrupted; resuming');
        await sleep(delay, ctx.signal);
        delay = Math.min(delay * 2, retry.maxMs);
      }
    }
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}
