import * as os from 'node:os';
import type { OcsfApiActivity } from './ocsf';
import { DEFAULT_APP_NAME, DEFAULT_FACILITY, formatSyslog, parseSyslogUrl, validFacility } from './syslog-format';
import { REPLAY_MAX_BYTES, ReplayQueue } from './syslog-replay-queue';
import { TcpTransport } from './syslog-tcp';
import type { SyslogTransport, TransportLink } from './syslog-transport';
import { UdpTransport } from './syslog-udp';
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

const FLUSH_BOUND_MS = 5_000;
const CLOSE_BOUND_MS = 2_000;

interface Waiter {
  /** Resolves once every sequence number below this one was sent. */
  until: number;
  done: () => void;
}

/**
 * Composes the message format (`syslog-format.ts`), the queue with its replay window
 * (`syslog-replay-queue.ts`) and one transport (`syslog-tcp.ts` or `syslog-udp.ts`); it owns the
 * back-off, the flushes and the counters.
 */
export class SyslogSink implements AuditSink {
  readonly name = 'syslog';
  readonly protocol: 'tcp' | 'udp';
  readonly host: string;
  readonly port: number;
  private readonly format: { hostname: string; appName: string; facility: number; procId: string };
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private readonly onDrop: (n: number) => void;
  private readonly onError: (e: unknown) => void;
  private readonly onDelivered: (n: number) => void;
  private readonly queue: ReplayQueue;
  private readonly transport: SyslogTransport;

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
    const maxQueue = Math.max(1, Math.floor(num(opts.maxQueue, 10_000)));
    this.retryMinMs = Math.max(1, num(opts.retryMinMs, 200));
    this.retryMaxMs = Math.max(this.retryMinMs, num(opts.retryMaxMs, 10_000));
    this.onDrop = safeCallback(opts.onDrop);
    this.onError = safeCallback(opts.onError);
    this.onDelivered = safeCallback(opts.onDelivered);
    this.queue = new ReplayQueue(maxQueue, this.protocol === 'tcp' ? REPLAY_MAX_BYTES : 0);
    // The transport reports back through closures, so these stay off the sink's public API.
    const link: TransportLink = {
      queue: this.queue,
      backingOff: () => this.retryTimer !== undefined,
      isFinished: () => this.finished,
      sent: (last) => this.confirm(last),
      report: (e) => this.report(e),
      failed: (e) => this.failed(e),
      attemptOver: () => this.attemptOver(),
      dropHead: (seq) => {
        if (this.queue.removeHead(seq)) this.settle(false);
        this.drop(1);
      },
      schedule: () => this.schedule(),
      pump: () => this.pump(),
    };
    this.transport = this.protocol === 'tcp' ? new TcpTransport(this.host, this.port, link) : new UdpTransport(this.host, this.port, link);
  }

  /** Events waiting to be sent (including ones handed to the socket and not yet confirmed). */
  get pending(): number {
    return this.queue.pending;
  }

  /** Counters since construction: messages sent (a resent one counts again), dropped, failed attempts. */
  counters(): { sent: number; dropped: number; errors: number } {
    return { ...this.stats };
  }

  /** Formats and enqueues one event. Never blocks, never throws. False when the event was dropped. */
  write(event: OcsfApiActivity): boolean {
    try {
      if (this.closed || this.queue.full) {
        this.drop(1);
        return false;
      }
      let data: Buffer | undefined;
      try {
        data = this.transport.frame(formatSyslog(event, this.format));
      } catch (e) {
        this.report(e);
        this.drop(1);
        return false;
      }
      if (!data) {
        this.drop(1);
        return false;
      }
      this.queue.push(data);
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
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const left = this.queue.clear();
    if (left > 0) this.drop(left);
    this.settle(true);
    await this.transport.close();
  }

  private flushWithin(ms: number): Promise<void> {
    try {
      if (this.finished || this.pending === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        // Deliberately not unref()ed: a pending flush keeps the process alive, for `ms` at most.
        const timer = setTimeout(() => resolve(), ms);
        this.waiters.push({
          until: this.queue.end,
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
    for (const w of this.waiters) (all || w.until <= this.queue.confirmed ? ready : keep).push(w);
    this.waiters = keep;
    for (const w of ready) w.done();
  }

  /** Sequence numbers up to `last` were sent. */
  private confirm(last: number): void {
    const confirmed = this.queue.confirm(last);
    if (!confirmed) return;
    this.stats.sent += confirmed.sent;
    if (confirmed.fresh > 0) this.onDelivered(confirmed.fresh);
    this.retryDelay = 0;
    this.settle(false);
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
    this.attemptOver();
  }

  /** An attempt is over without success: release the flushes waiting, try again after the back-off. */
  private attemptOver(): void {
    this.settle(true);
    if (this.pending > 0) this.scheduleRetry();
  }

  private pump(): void {
    if (this.finished) return;
    try {
      this.transport.pump();
    } catch (e) {
      // never let an unexpected error escape into a timer callback
      this.report(e);
    }
  }
}

function num(v: unknown, dflt: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : dflt;
}
