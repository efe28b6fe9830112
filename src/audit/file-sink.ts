import * as fs from 'node:fs';
import { safeCallback, type AuditSink } from './sink';

/**
 * The JSON-lines audit file: one event per line, appended, rotated by size.
 *
 * - `write(event)` only serialises and enqueues: it never blocks on the disk and never throws.
 * - The queue is bounded (`maxQueue` lines). A full queue drops the new event and reports it
 *   through `onDrop`; nothing else is ever dropped.
 * - A drain scheduled with `setImmediate` appends everything queued in batches (up to
 *   `maxBatchBytes`) through one file descriptor, asynchronously.
 * - Before a batch would take the file past `maxBytes`, the file is rotated:
 *   `path.(maxFiles-1)` → `path.maxFiles`, …, `path` → `path.1`, and a fresh `path` is opened. A
 *   batch is split at line boundaries so that every file stays within `maxBytes` (a single line
 *   larger than `maxBytes` gets a file of its own). With `maxFiles` = 0 the old file is removed.
 * - A failed open, write or rename (missing directory, disk full) is reported through `onError`
 *   and retried after a back-off (`retryMinMs` doubling up to `retryMaxMs`); the lines stay queued,
 *   and a partly written batch resumes where the disk stopped, so no line is lost or torn.
 * - `flush()` resolves when everything queued so far is on disk, or after the next attempt
 *   failed (it never hangs on a dead disk, and never rejects).
 * - `flushSync()` is for `exit` and SIGTERM handlers: it appends whatever is still queued with
 *   `fs.appendFileSync`. For a batch whose asynchronous write is in flight it waits (at most
 *   500 ms, polling the file's size) for that write to land, then appends whatever part of it did
 *   not. If that write was stuck in a busy thread pool and the process does not exit, it may land
 *   later as well: delivery is at-least-once in that race, and `metadata.uid` lets a reader drop
 *   the duplicate.
 */
export interface FileSinkOptions {
  path: string;
  /** Rotate before the file would exceed this many bytes. Default 64 MiB. */
  maxBytes?: number;
  /** Rotated files kept (`path.1` … `path.maxFiles`). Default 5. */
  maxFiles?: number;
  /** Lines waiting at most; beyond it `write` drops. Default 100 000. */
  maxQueue?: number;
  /** Bytes per append at most. Default 1 MiB. */
  maxBatchBytes?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Called with the number of events just dropped (1 per call today). */
  onDrop?: (dropped: number) => void;
  /** Called for every failed attempt; the sink retries by itself. */
  onError?: (error: unknown) => void;
  /** Called with the number of events just written to the file. */
  onDelivered?: (n: number) => void;
}

interface Inflight {
  buf: Buffer;
  sizeBefore: number;
  lines: number;
  epoch: number;
}

/** How long `flushSync` waits for an async write already in flight. */
const FLUSH_SYNC_WAIT_MS = 500;
const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

const promise = {
  open: (p: string) => new Promise<number>((res, rej) => fs.open(p, 'a', (e, fd) => (e ? rej(e) : res(fd)))),
  close: (fd: number) => new Promise<void>((res) => fs.close(fd, () => res())),
  fstat: (fd: number) => new Promise<fs.Stats>((res, rej) => fs.fstat(fd, (e, st) => (e ? rej(e) : res(st)))),
  write: (fd: number, buf: Buffer, off: number) => new Promise<number>((res, rej) => fs.write(fd, buf, off, buf.length - off, null, (e, n) => (e ? rej(e) : res(n)))),
  rename: (a: string, b: string) => new Promise<void>((res, rej) => fs.rename(a, b, (e) => (e && e.code !== 'ENOENT' ? rej(e) : res()))),
  exists: (p: string) => new Promise<boolean>((res) => fs.access(p, (e) => res(!e))),
  unlink: (p: string) => new Promise<void>((res, rej) => fs.unlink(p, (e) => (e && e.code !== 'ENOENT' ? rej(e) : res()))),
};

export class FileSink implements AuditSink {
  readonly name = 'file';
  readonly path: string;
  private readonly maxBytes: number;
  private readonly maxFiles: number;
  private readonly maxQueue: number;
  private readonly maxBatchBytes: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private readonly onDrop: (n: number) => void;
  private readonly onError: (e: unknown) => void;
  private readonly onDelivered: (n: number) => void;

  /** Serialised lines, each ending in '\n', oldest first; `head` is the first not yet written. */
  private queue: string[] = [];
  private head = 0;
  /** The unwritten end of a line a failed write left half on disk; goes out before the queue. */
  private tail: Buffer | undefined;
  private fd: number | undefined;
  private inflight: Inflight | undefined;
  /** Bumped by `flushSync`: an async write that finishes afterwards must not consume the queue. */
  private epoch = 0;
  private draining = false;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = 0;
  private waiters: (() => void)[] = [];
  /** How many rotated files exist, once probed. */
  private rotated: number | undefined;
  private stats = { written: 0, dropped: 0, errors: 0, rotations: 0 };

  constructor(opts: FileSinkOptions) {
    this.path = opts.path;
    this.maxBytes = Math.max(1, opts.maxBytes ?? 64 * 1024 * 1024);
    this.maxFiles = Math.max(0, Math.floor(opts.maxFiles ?? 5));
    this.maxQueue = Math.max(1, opts.maxQueue ?? 100_000);
    this.maxBatchBytes = Math.max(1, opts.maxBatchBytes ?? 1024 * 1024);
    this.retryMinMs = Math.max(1, opts.retryMinMs ?? 100);
    this.retryMaxMs = Math.max(this.retryMinMs, opts.retryMaxMs ?? 5_000);
    this.onDrop = safeCallback(opts.onDrop);
    this.onError = safeCallback(opts.onError);
    this.onDelivered = safeCallback(opts.onDelivered);
  }

  /** Lines waiting (including a half-written one). */
  get pending(): number {
    return this.queue.length - this.head + (this.tail ? 1 : 0);
  }

  /** Counters since construction: lines written, dropped, failed attempts, rotations. */
  counters(): Readonly<{ written: number; dropped: number; errors: number; rotations: number }> {
    return { ...this.stats };
  }

  /** Enqueues one event. Never blocks, never throws. Returns false when it was dropped. */
  write(event: unknown): boolean {
    let line: string;
    try {
      line = JSON.stringify(event);
      if (typeof line !== 'string') throw new TypeError('event does not serialise to JSON');
    } catch (e) {
      this.stats.errors++;
      this.onError(e);
      this.drop();
      return false;
    }
    if (this.queue.length - this.head >= this.maxQueue) {
      this.drop();
      return false;
    }
    this.queue.push(line + '\n');
    this.schedule();
    return true;
  }

  /** Resolves once everything queued before the call is on disk, or after the next failed attempt. */
  flush(): Promise<void> {
    if (this.pending === 0 && !this.inflight) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      if (this.retryTimer) {
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
      }
      this.schedule();
    });
  }

  /** Appends everything still queued, synchronously. For `exit` / SIGTERM handlers. Never throws. */
  flushSync(): void {
    const parts: Buffer[] = [];
    const inflight = this.inflight;
    if (inflight && inflight.epoch === this.epoch && this.fd !== undefined) {
      // The async write may or may not have reached the file: the file's size says how much did.
      // A write already running in the thread pool finishes in moments: wait for it (bounded)
      // rather than write its lines twice. One never started (pool busy) is written here.
      const fd = this.fd;
      const sizeNow = () => {
        try {
          return fs.fstatSync(fd).size;
        } catch {
          return inflight.sizeBefore;
        }
      };
      const want = inflight.sizeBefore + inflight.buf.length;
      const deadline = Date.now() + FLUSH_SYNC_WAIT_MS;
      let size = sizeNow();
      while (size < want && Date.now() < deadline) {
        Atomics.wait(SLEEPER, 0, 0, 1);
        size = sizeNow();
      }
      const landed = Math.min(inflight.buf.length, Math.max(0, size - inflight.sizeBefore));
      if (landed < inflight.buf.length) parts.push(inflight.buf.subarray(landed));
    } else if (this.tail) {
      parts.push(this.tail);
    }
    const skip = inflight && inflight.epoch === this.epoch ? inflight.lines : 0;
    const rest = this.queue.slice(this.head + skip);
    if (rest.length) parts.push(Buffer.from(rest.join(''), 'utf8'));
    if (parts.length === 0) return;
    try {
      fs.appendFileSync(this.path, Buffer.concat(parts));
    } catch (e) {
      this.stats.errors++;
      this.onError(e);
      return; // nothing consumed: a later flush may still succeed
    }
    const written = rest.length + (inflight && inflight.epoch === this.epoch ? inflight.lines : 0);
    this.stats.written += written;
    if (written) this.onDelivered(written);
    this.epoch++;
    this.queue = [];
    this.head = 0;
    this.tail = undefined;
    this.inflight = undefined;
    this.settleWaiters();
  }

  /** Flushes, then closes the file. The sink stays usable: a later write reopens it. */
  async close(): Promise<void> {
    await this.flush();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.fd !== undefined && !this.draining) {
      const fd = this.fd;
      this.fd = undefined;
      await promise.close(fd);
    }
  }

  private drop(): void {
    this.stats.dropped++;
    this.onDrop(1);
  }

  private schedule(): void {
    if (this.scheduled || this.draining || this.retryTimer) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    let failed = false;
    try {
      while (this.pending > 0) {
        if (this.fd === undefined) this.fd = await promise.open(this.path);
        const fd = this.fd;
        const size = (await promise.fstat(fd)).size;
        if (this.pending === 0) break; // flushSync wrote everything while we waited
        if (this.fd !== fd) continue;
        const epoch = this.epoch;

        let buf: Buffer;
        let lines: number;
        if (this.tail) {
          buf = this.tail;
          lines = 0;
        } else {
          const room = Math.min(this.maxBatchBytes, this.maxBytes - size);
          const take: string[] = [];
          let bytes = 0;
          for (let i = this.head; i < this.queue.length; i++) {
            const n = Buffer.byteLength(this.queue[i]!, 'utf8');
            if (bytes + n > room && (take.length > 0 || size > 0)) break; // an oversized line alone in a fresh file is taken
            take.push(this.queue[i]!);
            bytes += n;
            if (bytes >= room) break;
          }
          if (take.length === 0) {
            await this.rotate();
            continue;
          }
          buf = Buffer.from(take.join(''), 'utf8');
          lines = take.length;
        }

        this.inflight = { buf, sizeBefore: size, lines, epoch };
        let off = 0;
        try {
          while (off < buf.length) off += await promise.write(fd, buf, off);
        } catch (e) {
          if (this.epoch === epoch) this.keepUnwritten(buf, off, lines);
          throw e;
        } finally {
          this.inflight = undefined;
        }
        if (this.epoch !== epoch) continue; // flushSync took over this batch
        if (lines === 0) {
          this.tail = undefined;
        } else {
          this.head += lines;
          this.stats.written += lines;
          this.onDelivered(lines);
          this.compact();
        }
        this.retryDelay = 0;
      }
    } catch (e) {
      failed = true;
      this.stats.errors++;
      this.onError(e);
      const fd = this.fd;
      this.fd = undefined; // reopen next time: the directory may have been recreated
      if (fd !== undefined) await promise.close(fd);
      this.retryDelay = this.retryDelay ? Math.min(this.retryMaxMs, this.retryDelay * 2) : this.retryMinMs;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        void this.drain();
      }, this.retryDelay);
      this.retryTimer.unref?.();
    } finally {
      this.draining = false;
    }
    if (failed || this.pending === 0) this.settleWaiters();
    if (!failed && this.pending > 0) this.schedule();
  }

  /** After a write that failed part-way: drop the lines that made it, keep the rest of the one cut. */
  private keepUnwritten(buf: Buffer, written: number, lines: number): void {
    if (written <= 0) return;
    if (lines === 0) {
      this.tail = buf.subarray(written);
      if (this.tail.length === 0) this.tail = undefined;
      return;
    }
    let pos = 0;
    for (let i = 0; i < lines; i++) {
      const n = Buffer.byteLength(this.queue[this.head]!, 'utf8');
      if (pos + n <= written) {
        pos += n;
        this.head++;
        this.stats.written++;
        continue;
      }
      this.tail = buf.subarray(written, pos + n);
      this.head++;
      this.stats.written++; // counted once its tail lands; good enough for a counter
      break;
    }
    this.compact();
  }

  private async rotate(): Promise<void> {
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) await promise.close(fd);
    if (this.maxFiles === 0) {
      await promise.unlink(this.path);
    } else {
      if (this.rotated === undefined) {
        // rotated files are contiguous (path.1 … path.n): find n once, then keep count
        let n = 0;
        while (n < this.maxFiles && (await promise.exists(`${this.path}.${n + 1}`))) n++;
        this.rotated = n;
      }
      for (let i = Math.min(this.rotated, this.maxFiles - 1); i >= 1; i--) await promise.rename(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      await promise.rename(this.path, `${this.path}.1`);
      this.rotated = Math.min(this.rotated + 1, this.maxFiles);
    }
    this.stats.rotations++;
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private settleWaiters(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }
}
