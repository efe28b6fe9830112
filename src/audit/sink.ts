import type { SpanContext } from '@opentelemetry/api';
import type { OcsfApiActivity } from './ocsf';

/**
 * Where audit events go. The trail hands each validated event to every sink; a sink only
 * enqueues (it never blocks on I/O and never throws), retries its own failures, and reports
 * drops and failed attempts through the callbacks it was built with.
 */
export interface AuditSink {
  /** A short label for metrics and logs: `file`, `otel`, `syslog`. */
  readonly name: string;
  /**
   * Enqueues one event. Never blocks, never throws. False when the event was dropped. `span` is
   * the span the event belongs to, for sinks that carry trace context (OpenTelemetry logs).
   */
  write(event: OcsfApiActivity, span?: SpanContext): boolean;
  /** Resolves when everything enqueued so far was delivered, or the next attempt failed. Never rejects. */
  flush(): Promise<void>;
  /** For `exit` and signal handlers: deliver what is queued synchronously, as far as the medium allows. */
  flushSync?(): void;
  /** Flushes (bounded) and releases the sink's file descriptors or sockets. Never rejects. */
  close(): Promise<void>;
  /**
   * False while events would go nowhere (no logger provider is registered): the trail then does
   * not build them at all. Absent: always active.
   */
  isActive?(): boolean;
}

/** What a sink reports back to the trail, which counts it. */
export interface SinkCallbacks {
  /** `n` events were dropped (queue full, or given up on). */
  onDrop?: (n: number) => void;
  /** One delivery attempt failed; the sink retries by itself. */
  onError?: (error: unknown) => void;
  /** `n` events left the process for good: written to the file, handed to the syslog socket. */
  onDelivered?: (n: number) => void;
}

/** A sink's callback that can never break the sink: whatever it throws is swallowed. */
export function safeCallback<A extends unknown[]>(fn: ((...a: A) => void) | undefined): (...a: A) => void {
  if (!fn) return () => undefined;
  return (...a: A) => {
    try {
      fn(...a);
    } catch {
      // a broken callback must not break the sink
    }
  };
}
