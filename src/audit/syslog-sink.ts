import * as dgram from 'node:dgram';
import * as dns from 'node:dns';
import * as net from 'node:net';
import * as os from 'node:os';
import type { OcsfApiActivity } from './ocsf';
import { DEFAULT_APP_NAME, DEFAULT_FACILITY, formatSyslog, parseSyslogUrl, validFacility } from './syslog-format';
import { safeCallback, type AuditSink, type SinkCallbacks } from './sink';

/**
 * The syslog audit sink: every event as one RFC 5424 message, over TCP or UDP.
 *
 * ## Message
 *
 * `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [llmgov@32473 class_uid="6003" kind="…"] BOM MSG`
 *
 * - PRI = facility × 8 + the syslog severity of the event's OCSF `severity_id` (`severityOf`).
 * - TIMESTAMP is `event.time` as ISO 8601 UTC with milliseconds (`-` when it cannot be one).
 * - HOSTNAME, APP-NAME, PROCID and MSGID (`unmapped.kind`) are printable US-ASCII without
 *   spaces (anything else becomes `_`), cut to the RFC limits (255, 48, 128, 32), `-` when empty.
 * - The structured data element `llmgov@32473` (32473 is the IANA example enterprise number)
 *   repeats the class and the kind, PARAM-VALUEs escaped (`"`, `\`, `]`) as RFC 5424 §6.3.3 says.
 * - MSG is the event as JSON, UTF-8, after the UTF-8 BOM (RFC 5424 §6.4).
 *
 * ## Transport
 *
 * - `tcp://host:port`: one persistent connection, opened on the first write; each message is
 *   framed by octet counting (`LENGTH SP MESSAGE`, RFC 6587 §3.4.1), so no character in the JSON
 *   can split a message. Messages go out in batches (up to 64 KiB per socket write), stopping while
 *   the socket reports backpressure, until `'drain'`.
 * - `udp://host:port`: one datagram per message, no framing. A message over 65 507 bytes cannot be
 *   a datagram: it is dropped (`onDrop`).
 * - The port defaults to 514.
 *
 * ## Delivery
 *
 * - `write(event)` formats and enqueues; it never blocks and never throws. The queue is bounded
 *   (`maxQueue` events waiting); a full queue drops the new event and reports it through `onDrop`.
 * - A message counts as sent once the socket's write callback (TCP) or send callback (UDP)
 *   reported success. One that failed stays queued: a connection that cannot be opened, errors or
 *   is closed by the server is reported through `onError` and reopened after a back-off
 *   (`retryMinMs` doubling up to `retryMaxMs`); a failed datagram is sent again after the same
 *   back-off.
 * - TCP has no application-level acknowledgement: a frame the local kernel accepted can still be
 *   lost when the connection breaks (it sat in the send buffer, or in the server's receive buffer
 *   unread). So after a connection breaks, the sink also resends the most recent frames it had
 *   already sent on it (up to 1 MiB, sent within the last 5 s) before anything newer. Delivery is
 *   at-least-once while the process lives; `metadata.uid` lets the collector drop duplicates.
 *   UDP is fire-and-forget past the local send.
 * - Sockets and timers are `unref()`ed: the sink never keeps the process alive. `flush()` resolves
 *   once everything written before it was sent, or after the next failed attempt, or after 5 s; it
 *   keeps the process alive until then. It never rejects.
 * - `flushSync()` does nothing: a socket cannot be written synchronously. Syslog delivery on a hard
 *   exit is best-effort; the file sink is the one flushed synchronously from `exit` handlers.
 * - `close()` flushes (at most 2 s), reports whatever is still queued as dropped, and closes the
 *   socket. It never rejects. Afterwards `write()` drops and returns false.
 * - Callbacks are wrapped: a callback that throws cannot break the sink.
 */
export interface SyslogSinkOptions extends SinkCallbacks {
  /** `tcp://host:port` or `udp://host:port` (port default 514 when omitted). */
  url: string;
  /** RFC 5424 HOSTNAME field; default os.hostname(). */
  hostname?: string;
  /** APP-NAME; default 'llm-governor'. */
  appName?: string;
  /** facility number 0..23; default 13 (log audit). */
  facility?: number;
  /** Events waiting at most; beyond it `write()` drops and calls `onDrop(1)`. Default 10 000. */
  maxQueue?: number;
  /** First back-off after a failed attempt, ms. Default 200. */
  retryMinMs?: number;
  /** Longest back-off, ms. Default 10 000. */
  retryMaxMs?: number;
}

/** The largest UDP payload over IPv4 (65 535 − 8 − 20). */
const MAX_DATAGRAM_BYTES = 65_507;
/** Bytes handed to one `socket.write` at most. */
const BATCH_BYTES = 64 * 1024;
const FLUSH_BOUND_MS = 5_000;
const CLOSE_BOUND_MS = 2_000;
const SOCKET_END_WAIT_MS = 500;
const CONNECT_TIMEOUT_MS = 10_000;
const KEEPALIVE_MS = 30_000;
/** After a TCP connection breaks, frames already sent on it are sent again, this many bytes at most… */
const REPLAY_MAX_BYTES = 1024 * 1024;
/** …and only those sent this recently. */
const REPLAY_MAX_AGE_MS = 5_000;

interface Queued {
  /** The frame as it goes on the wire (octet-counted for TCP, the bare message for UDP). */
  data: Buffer;
  /** When its write was confirmed (for the replay window); 0 until then. */
  sentAt: number;
}

interface Waiter {
  /** Resolves once every sequence number below this one was sent. */
  until: number;
  done: () => void;
}

export class SyslogSink implements AuditSink {
  readonly name = 'syslog';
  readonly protocol: 'tcp' | 'udp';
  readonly host: string;
  readonly port: number;
  private readonly format: { hostname: string; appName: string; facility: number; procId: string };
  private readonly maxQueue: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private readonly replayMaxBytes: number;
  private readonly onDrop: (n: number) => void;
  private readonly onError: (e: unknown) => void;
  private readonly onDelivered: (n: number) => void;
  /** The sequence number after the last message counted as delivered (a replayed one counts once). */
  private deliveredUpTo = 0;

  /*
   * The queue, by sequence number: [lo, ack) sent and kept for a replay, [ack, next) handed to the
   * socket and not yet confirmed, [next, hi) waiting. `items[off]` holds `lo`.
   */
  private items: Queued[] = [];
  private off = 0;
  private lo = 0;
  private ack = 0;
  private next = 0;
  private hi = 0;
  private replayBytes = 0;

  /** Bumped whenever the current socket is given up: callbacks of older ones are ignored. */
  private gen = 0;
  private socket: net.Socket | undefined;
  private connected = false;
  private blocked = false;
  private udp: dgram.Socket | undefined;
  private udpAddress: string | undefined;
  private resolving = false;
  private sending = false;

  private scheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = 0;
  private waiters: Waiter[] = [];
  /** `close()` was called: writes are refused. */
  private closed = false;
  /** `close()` is past its flush: nothing is sent any more. */
  private finished = false;
  private closing: Promise<void> | undefined;
  private stats = { sent: 0, dropped: 0, errors: 0 };

  /** Throws for a malformed `url` (the message names `LLM_GOVERNOR_AUDIT_SYSLOG`). */
  constructor(opts: SyslogSinkOptions) {
    const target = parseSyslogUrl(opts.url);
    this.protocol = target.protocol;
    this.host = target.host;
    this.port = target.port;
    let hostname = opts.hostname;
    if (hostname === undefined) {
      try {
        hostname = os.hostname();
      } catch {
        hostname = '-';
      }
    }
    this.format = {
      hostname,
      appName: opts.appName ?? DEFAULT_APP_NAME,
      facility: validFacility(opts.facility ?? DEFAULT_FACILITY),
      procId: String(process.pid),
    };
    this.maxQueue = Math.max(1, Math.floor(num(opts.maxQueue, 10_000)));
    this.retryMinMs = Math.max(1, num(opts.retryMinMs, 200));
    this.retryMaxMs = Math.max(this.retryMinMs, num(opts.retryMaxMs, 10_000));
    this.replayMaxBytes = this.protocol === 'tcp' ? REPLAY_MAX_BYTES : 0;
    this.onDrop = safeCallback(opts.onDrop);
    this.onError = safeCallback(opts.onError);
    this.onDelivered = safeCallback(opts.onDelivered);
  }

  /** Events waiting to be sent (including ones handed to the socket and not yet confirmed). */
  get pending(): number {
    return this.hi - this.ack;
  }

  /** Counters since construction: messages sent (a resent one counts again), dropped, failed attempts. */
  counters(): { sent: number; dropped: number; errors: number } {
    return { ...this.stats };
  }

  /** Formats and enqueues one event. Never blocks, never throws. False when the event was dropped. */
  write(event: OcsfApiActivity): boolean {
    try {
      if (this.closed || this.pending >= this.maxQueue) {
        this.drop(1);
        return false;
      }
      let data: Buffer;
      try {
        const message = formatSyslog(event, this.format);
        if (this.protocol === 'tcp') {
          data = Buffer.from(`${Buffer.byteLength(message, 'utf8')} ${message}`, 'utf8');
        } else {
          data = Buffer.from(message, 'utf8');
          if (data.length > MAX_DATAGRAM_BYTES) {
            this.drop(1);
            return false;
          }
        }
      } catch (e) {
        this.report(e);
        this.drop(1);
        return false;
      }
      this.items.push({ data, sentAt: 0 });
      this.hi++;
      this.schedule();
      return true;
    } catch (e) {
      this.report(e);
      return false;
    }
  }

  /**
   * Resolves once everything written before the call was sent, or after the next failed attempt
   * (a pending back-off is cut short), or after 5 s. Never rejects.
   */
  flush(): Promise<void> {
    return this.flushWithin(FLUSH_BOUND_MS);
  }

  /**
   * Does nothing: a socket cannot be written synchronously, so syslog delivery on a hard exit is
   * best-effort. (The file sink is the one flushed synchronously.) Never throws.
   */
  flushSync(): void {
    // intentionally empty
  }

  /** Flushes (at most 2 s), drops what is still queued, closes the socket. Never rejects. */
  close(): Promise<void> {
    if (!this.closing) this.closing = this.shutDown().catch(() => undefined);
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    await this.flushWithin(CLOSE_BOUND_MS);
    this.finished = true;
    this.gen++;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const left = this.pending;
    this.items = [];
    this.off = 0;
    this.lo = this.ack = this.next = this.hi = this.deliveredUpTo = 0;
    this.replayBytes = 0;
    if (left > 0) this.drop(left);
    this.settle(true);

    const socket = this.socket;
    this.socket = undefined;
    this.connected = false;
    if (socket) await endSocket(socket);
    const udp = this.udp;
    this.udp = undefined;
    if (udp) {
      await new Promise<void>((resolve) => {
        try {
          udp.close(() => resolve());
        } catch {
          resolve();
        }
      });
    }
  }

  private flushWithin(ms: number): Promise<void> {
    try {
      if (this.finished || this.pending === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        // Deliberately not unref()ed: a pending flush keeps the process alive, for `ms` at most.
        const timer = setTimeout(() => resolve(), ms);
        this.waiters.push({
          until: this.hi,
          done: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        if (this.retryTimer) {
          clearTimeout(this.retryTimer);
          this.retryTimer = undefined;
        }
        this.schedule();
      });
    } catch {
      return Promise.resolve();
    }
  }

  private item(seq: number): Queued {
    return this.items[this.off + seq - this.lo]!;
  }

  private drop(n: number): void {
    this.stats.dropped += n;
    this.onDrop(n);
  }

  private report(e: unknown): void {
    this.stats.errors++;
    this.onError(e);
  }

  /** Resolves the flushes that are satisfied, or all of them after a failed attempt. */
  private settle(all: boolean): void {
    if (this.waiters.length === 0) return;
    const keep: Waiter[] = [];
    const ready: Waiter[] = [];
    for (const w of this.waiters) (all || w.until <= this.ack ? ready : keep).push(w);
    this.waiters = keep;
    for (const w of ready) w.done();
  }

  /** Sequence numbers up to `last` were sent: move them into the replay window. */
  private confirm(last: number): void {
    if (last < this.ack) return;
    const now = Date.now();
    for (let s = this.ack; s <= last; s++) {
      const it = this.item(s);
      it.sentAt = now;
      this.replayBytes += it.data.length;
    }
    this.stats.sent += last + 1 - this.ack;
    const fresh = last + 1 - Math.max(this.ack, this.deliveredUpTo);
    this.ack = last + 1;
    if (fresh > 0) {
      this.onDelivered(fresh);
      this.deliveredUpTo = this.ack;
    }
    this.retryDelay = 0;
    this.trimReplay(now);
    this.settle(false);
  }

  private trimReplay(now: number): void {
    while (this.lo < this.ack) {
      const it = this.item(this.lo);
      if (this.replayBytes <= this.replayMaxBytes && it.sentAt >= now - REPLAY_MAX_AGE_MS) break;
      this.replayBytes -= it.data.length;
      this.items[this.off] = undefined as unknown as Queued;
      this.off++;
      this.lo++;
    }
    if (this.off === this.items.length) {
      this.items = [];
      this.off = 0;
    } else if (this.off > 4096 && this.off * 2 > this.items.length) {
      this.items = this.items.slice(this.off);
      this.off = 0;
    }
  }

  /** The transport broke: everything not confirmed, and the recent replay window, goes out again. */
  private rewind(): void {
    this.trimReplay(Date.now());
    this.ack = this.lo;
    this.next = this.lo;
    this.replayBytes = 0;
  }

  private schedule(): void {
    if (this.scheduled || this.finished) return;
    this.scheduled = true;
    const t = setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
    t.unref();
  }

  private scheduleRetry(): void {
    if (this.finished || this.retryTimer) return;
    this.retryDelay = this.retryDelay ? Math.min(this.retryMaxMs, this.retryDelay * 2) : this.retryMinMs;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.pump();
    }, this.retryDelay);
    this.retryTimer.unref();
  }

  /** A failed attempt: report it, release the flushes waiting, try again after the back-off. */
  private failed(e: unknown): void {
    this.report(e);
    this.settle(true);
    if (this.pending > 0) this.scheduleRetry();
  }

  private pump(): void {
    if (this.finished) return;
    try {
      if (this.protocol === 'tcp') this.pumpTcp();
      else this.pumpUdp();
    } catch (e) {
      // never let an unexpected error escape into a timer callback
      this.report(e);
    }
  }

  // ---- TCP --------------------------------------------------------------------------------------

  private pumpTcp(): void {
    if (this.next >= this.hi) return;
    if (!this.socket) {
      if (!this.retryTimer) this.connect();
      return;
    }
    if (!this.connected) return;
    const socket = this.socket;
    const gen = this.gen;
    while (this.next < this.hi && !this.blocked && this.socket === socket) {
      const parts: Buffer[] = [];
      let bytes = 0;
      while (this.next < this.hi && bytes < BATCH_BYTES) {
        const data = this.item(this.next).data;
        parts.push(data);
        bytes += data.length;
        this.next++;
      }
      const last = this.next - 1;
      const chunk = parts.length === 1 ? parts[0]! : Buffer.concat(parts, bytes);
      let ok: boolean;
      try {
        ok = socket.write(chunk, (err) => {
          if (err || gen !== this.gen) return; // the 'close' handler requeues it
          this.confirm(last);
        });
      } catch (e) {
        socket.destroy(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      if (!ok) this.blocked = true;
    }
  }

  private connect(): void {
    const gen = ++this.gen;
    let socket: net.Socket;
    try {
      socket = net.connect({ host: this.host, port: this.port });
    } catch (e) {
      this.failed(e);
      return;
    }
    this.socket = socket;
    this.connected = false;
    this.blocked = false;
    socket.unref();
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => {
      socket.destroy(new Error(`connecting to the syslog server ${this.where()} timed out after ${CONNECT_TIMEOUT_MS} ms`));
    });
    socket.on('connect', () => {
      if (gen !== this.gen) return;
      socket.setTimeout(0);
      socket.setKeepAlive(true, KEEPALIVE_MS);
      this.connected = true;
      this.pump();
    });
    // Read (and discard) whatever the server sends, so that its closing the connection is noticed.
    socket.on('data', () => undefined);
    socket.on('drain', () => {
      if (gen !== this.gen) return;
      this.blocked = false;
      this.pump();
    });
    socket.on('error', (e) => {
      if (gen === this.gen) this.report(e);
    });
    socket.on('close', (hadError) => {
      if (gen !== this.gen) return;
      this.gen++;
      this.socket = undefined;
      this.connected = false;
      this.blocked = false;
      this.rewind();
      // An idle connection the server closed is no failure; one with frames to resend is.
      if (!hadError && this.pending > 0) this.report(new Error(`the syslog server ${this.where()} closed the connection`));
      this.settle(true);
      if (this.pending > 0) this.scheduleRetry();
    });
  }

  // ---- UDP --------------------------------------------------------------------------------------

  private pumpUdp(): void {
    if (this.next >= this.hi || this.sending || this.retryTimer) return;
    if (!this.udp || this.udpAddress === undefined) {
      this.openUdp();
      return;
    }
    const udp = this.udp;
    const gen = this.gen;
    const seq = this.next;
    this.sending = true;
    this.next++;
    const after = (err: Error | null) => {
      if (gen !== this.gen) return;
      this.sending = false;
      if (err) {
        this.next = seq;
        if ((err as NodeJS.ErrnoException).code === 'EMSGSIZE') {
          // it will never fit: give up on it rather than block everything behind it
          this.report(err);
          this.removeHead(seq);
          this.drop(1);
          this.schedule();
          return;
        }
        this.failed(err);
        return;
      }
      this.confirm(seq);
      this.schedule();
    };
    try {
      udp.send(this.item(seq).data, this.port, this.udpAddress, after);
    } catch (e) {
      // the socket is unusable (closed under us): open a new one next time
      this.gen++;
      this.udp = undefined;
      this.sending = false;
      this.next = seq;
      closeQuietly(udp);
      this.failed(e);
    }
  }

  /** Removes the first waiting message, `seq` (UDP keeps no replay window, so `lo` = `ack` = `seq`). */
  private removeHead(seq: number): void {
    if (seq !== this.lo || this.ack !== seq) return;
    this.items[this.off] = undefined as unknown as Queued;
    this.off++;
    this.lo++;
    this.ack++;
    this.next = Math.max(this.next, this.ack);
    this.trimReplay(Date.now());
    this.settle(false);
  }

  private openUdp(): void {
    if (this.resolving) return;
    const family = net.isIP(this.host);
    if (family !== 0) {
      this.createUdp(family === 6 ? 'udp6' : 'udp4', this.host);
      this.pump();
      return;
    }
    this.resolving = true;
    const gen = this.gen;
    dns.lookup(this.host, (err, address, fam) => {
      this.resolving = false;
      if (gen !== this.gen || this.finished) return;
      if (err) {
        this.failed(err);
        return;
      }
      this.createUdp(fam === 6 ? 'udp6' : 'udp4', address);
      this.pump();
    });
  }

  private createUdp(type: 'udp4' | 'udp6', address: string): void {
    const gen = ++this.gen;
    const udp = dgram.createSocket({ type });
    udp.on('error', (e) => {
      if (gen !== this.gen) return;
      this.gen++;
      this.udp = undefined;
      this.sending = false;
      this.next = this.ack;
      closeQuietly(udp);
      this.failed(e);
    });
    udp.unref();
    this.udp = udp;
    this.udpAddress = address;
  }

  private where(): string {
    return this.host.includes(':') ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`;
  }
}

/** Half-closes the socket, waits (briefly) for it to close, then destroys it. Never rejects. */
function endSocket(socket: net.Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    if (socket.destroyed) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      socket.destroy();
      resolve();
    }, SOCKET_END_WAIT_MS);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      if (socket.connecting) socket.destroy();
      else socket.end(() => socket.destroy());
    } catch {
      socket.destroy();
    }
  });
}

function closeQuietly(udp: dgram.Socket): void {
  try {
    udp.close();
  } catch {
    // already closed
  }
}

function num(v: unknown, dflt: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : dflt;
}
