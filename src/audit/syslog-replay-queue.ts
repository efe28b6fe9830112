/**
 * The syslog sink's bounded queue of framed messages, by sequence number, with the replay window.
 *
 * It holds what waits while the collector is unreachable: `maxQueue` messages not yet confirmed at
 * most (the sink drops, and counts, a new event while `full`). A confirmed message is not let go at
 * once: TCP has no application-level acknowledgement, so a frame the local kernel accepted can still
 * be lost when the connection breaks (it sat in the send buffer, or in the server's receive buffer
 * unread). The most recent confirmed messages are kept, `replayMaxBytes` at most and none older than
 * `REPLAY_MAX_AGE_MS`, and `rewind()` sends them again before anything newer. UDP keeps no window
 * (`replayMaxBytes` 0): past the local send a datagram is out of reach anyway.
 */

/** After a TCP connection breaks, frames already sent on it are sent again, this many bytes at most… */
export const REPLAY_MAX_BYTES = 1024 * 1024;
/** …and only those sent this recently. */
const REPLAY_MAX_AGE_MS = 5_000;

interface Queued {
  /** The frame as it goes on the wire (octet-counted for TCP, the bare message for UDP). */
  data: Buffer;
  /** When its write was confirmed (for the replay window); 0 until then. */
  sentAt: number;
}

export class ReplayQueue {
  private readonly maxQueue: number;
  private readonly replayMaxBytes: number;

  /*
   * By sequence number: [lo, ack) sent and kept for a replay, [ack, next) handed to the socket and
   * not yet confirmed, [next, hi) waiting. `items[off]` holds `lo`.
   */
  private items: Queued[] = [];
  private off = 0;
  private lo = 0;
  private ack = 0;
  private next = 0;
  private hi = 0;
  private replayBytes = 0;
  /** The sequence number after the last message counted as delivered (a replayed one counts once). */
  private deliveredUpTo = 0;

  constructor(maxQueue: number, replayMaxBytes: number) {
    this.maxQueue = maxQueue;
    this.replayMaxBytes = replayMaxBytes;
  }

  /** Messages not yet confirmed (including ones handed to the socket). */
  get pending(): number {
    return this.hi - this.ack;
  }

  /** No room for another message: a new one is to be dropped. */
  get full(): boolean {
    return this.pending >= this.maxQueue;
  }

  /** Every sequence number below this one was confirmed sent. */
  get confirmed(): number {
    return this.ack;
  }

  /** The sequence number the next pushed message gets: everything below it was written. */
  get end(): number {
    return this.hi;
  }

  /** The sequence number `take()` hands out next. */
  get nextSeq(): number {
    return this.next;
  }

  /** Some message waits to be handed to the socket. */
  get hasUnsent(): boolean {
    return this.next < this.hi;
  }

  push(data: Buffer): void {
    this.items.push({ data, sentAt: 0 });
    this.hi++;
  }

  /** The next waiting message, now counted as handed to the socket (`hasUnsent` must hold). */
  take(): Buffer {
    return this.item(this.next++).data;
  }

  /** `seq` and everything after it were not sent after all: they are handed out again. */
  retake(seq: number): void {
    this.next = seq;
  }

  /** Whatever was handed to the socket and not confirmed is handed out again. */
  retakeUnconfirmed(): void {
    this.next = this.ack;
  }

  /**
   * Sequence numbers up to `last` were sent: they move into the replay window. Returns how many
   * were confirmed now (a replayed one counts again) and how many of those were never confirmed
   * before; undefined when `last` was confirmed already.
   */
  confirm(last: number): { sent: number; fresh: number } | undefined {
    if (last < this.ack) return undefined;
    const now = Date.now();
    for (let s = this.ack; s <= last; s++) {
      const it = this.item(s);
      it.sentAt = now;
      this.replayBytes += it.data.length;
    }
    const sent = last + 1 - this.ack;
    const fresh = last + 1 - Math.max(this.ack, this.deliveredUpTo);
    this.ack = last + 1;
    if (fresh > 0) this.deliveredUpTo = this.ack;
    this.trimReplay(now);
    return { sent, fresh };
  }

  /** The transport broke: everything not confirmed, and the recent replay window, goes out again. */
  rewind(): void {
    this.trimReplay(Date.now());
    this.ack = this.lo;
    this.next = this.lo;
    this.replayBytes = 0;
  }

  /**
   * Gives up on the first waiting message, `seq` (UDP keeps no replay window, so `lo` = `ack` =
   * `seq`). False, and nothing changes, when `seq` is not that message.
   */
  removeHead(seq: number): boolean {
    if (seq !== this.lo || this.ack !== seq) return false;
    this.items[this.off] = undefined as unknown as Queued;
    this.off++;
    this.lo++;
    this.ack++;
    this.next = Math.max(this.next, this.ack);
    this.trimReplay(Date.now());
    return true;
  }

  /** Empties the queue and starts the numbering over; returns how many messages were pending. */
  clear(): number {
    const left = this.pending;
    this.items = [];
    this.off = 0;
    this.lo = this.ack = this.next = this.hi = this.deliveredUpTo = 0;
    this.replayBytes = 0;
    return left;
  }

  private item(seq: number): Queued {
    return this.items[this.off + seq - this.lo]!;
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
}
