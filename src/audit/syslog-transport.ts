import type { ReplayQueue } from './syslog-replay-queue';

/**
 * The contract between the syslog sink and a transport (`syslog-tcp.ts`, `syslog-udp.ts`). The
 * sink owns the queue, the back-off, the flushes and the counters; a transport owns one socket
 * and moves messages from the queue onto it, reporting every outcome back through its link.
 */
export interface SyslogTransport {
  /** The message as it goes on the wire; undefined when it can never be sent (the sink drops it). */
  frame(message: string): Buffer | undefined;
  /** Hands waiting messages to the socket, as far as it takes them now; opens one when needed. */
  pump(): void;
  /** Ignores the current socket's callbacks from now on and closes it. Never rejects. */
  close(): Promise<void>;
}

/** What the sink hands a transport. */
export interface TransportLink {
  readonly queue: ReplayQueue;
  /** A back-off is pending: the sink pumps again when it ends, so do not try now. */
  backingOff(): boolean;
  /** The sink is closed for good: nothing is sent any more. */
  isFinished(): boolean;
  /** Sequence numbers up to `last` were confirmed by the socket. */
  sent(last: number): void;
  /** A problem worth counting that ends no attempt by itself (a socket error before its close). */
  report(error: unknown): void;
  /** An attempt failed: report it, release the flushes waiting, try again after the back-off. */
  failed(error: unknown): void;
  /** The connection ended with nothing to report: as `failed`, without the report. */
  attemptOver(): void;
  /** Gives up on the first waiting message, `seq`, for good: it counts as dropped. */
  dropHead(seq: number): void;
  /** Pumps again soon (on the next turn of the event loop). */
  schedule(): void;
  /** Pumps again now. */
  pump(): void;
}
