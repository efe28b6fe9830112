import { diag, type Counter, type Meter, type SpanContext } from '@opentelemetry/api';
import { AUDIT_ATTR, GOVERNOR_METRIC } from '../semconv';
import { auditEvent, ocsfApiActivitySchema, type AuditFacts, type AuditKind, type AuditSource } from './ocsf';
import type { AuditSink } from './sink';

/** What a caller says about an event: everything but who we are, which the trail adds. */
export type AuditEventFacts = Omit<AuditFacts, 'source'>;

/** The one thing the call path, the guards and the budgets see of the audit trail. */
export interface AuditRecorder {
  /** Enqueues one event. Never blocks, never throws; cheap enough for every call. */
  record(kind: AuditKind, facts: AuditEventFacts, span?: SpanContext): void;
  /** False when no sink would take an event: callers then need not gather its facts. */
  readonly wanted: boolean;
}

/** For code built without an audit trail (unit tests, `wrap()` before start-up). */
export const NO_AUDIT: AuditRecorder = { record: () => undefined, wanted: false };

interface Pending {
  kind: AuditKind;
  facts: AuditEventFacts;
  span?: SpanContext;
}

export interface AuditTrailOptions {
  source: AuditSource;
  sinks: AuditSink[];
  /** Events waiting to be built at most; beyond it `record` drops. Default 100 000. */
  maxQueue?: number;
}

/** Why an event was dropped: the `reason` of `llm_governor.audit.dropped`. */
type DropReason = 'queue_full' | 'sink_queue_full' | 'export_failed' | 'invalid' | 'closed';

/**
 * The audit trail: one OCSF event per call and per decision, to every sink.
 *
 * `record` only enqueues the caller's facts (a small object) with the time; nothing is built,
 * validated, serialised or written on the call path. A drain, scheduled once per turn of the
 * event loop, builds each event, validates it against the OCSF schema (an invalid one is
 * dropped and counted, never sent half-right), and hands it to every sink, each of which only
 * enqueues again and writes in the background.
 *
 * A full queue drops the new event, counts it in `llm_governor.audit.dropped{reason}` and warns
 * once; a sink's own drops and failed attempts are counted per sink. Nothing here throws into
 * the app. `flushSync` (process exit, SIGTERM) drains the queue and the file sink synchronously.
 */
export class AuditTrail implements AuditRecorder {
  private queue: Pending[] = [];
  private readonly maxQueue: number;
  private scheduled = false;
  private closed = false;
  private warnedDrop = false;
  private warnedInvalid = false;
  private instruments?: { events: Counter; dropped: Counter; errors: Counter; delivered: Counter };
  /** Counts from before a meter existed (start-up), added once it does. */
  private early = { events: new Map<string, number>(), dropped: new Map<string, number>(), errors: new Map<string, number>(), delivered: new Map<string, number>() };
  private readonly stats = { recorded: 0, emitted: 0, dropped: 0, invalid: 0 };

  constructor(private readonly opts: AuditTrailOptions) {
    this.maxQueue = Math.max(1, opts.maxQueue ?? 100_000);
  }

  get sinks(): readonly AuditSink[] {
    return this.opts.sinks;
  }

  /** Counters since start: events recorded, handed to the sinks, dropped, and invalid. */
  counters(): Readonly<{ recorded: number; emitted: number; dropped: number; invalid: number }> {
    return { ...this.stats };
  }

  get wanted(): boolean {
    try {
      return !this.closed && this.anySinkActive();
    } catch {
      return false;
    }
  }

  record(kind: AuditKind, facts: AuditEventFacts, span?: SpanContext): void {
    try {
      if (!this.anySinkActive()) return; // nowhere to go: not even built
      if (this.queue.length >= this.maxQueue) return this.dropped('queue_full');
      this.stats.recorded++;
      this.queue.push({ kind, facts: facts.time === undefined ? { ...facts, time: Date.now() } : facts, span });
      this.schedule();
    } catch {
      /* never into the app */
    }
  }

  /** Instruments for the trail's own metrics; called again when the meter provider changes. */
  setMeter(meter: Meter): void {
    try {
      this.instruments = {
        events: meter.createCounter(GOVERNOR_METRIC.AUDIT_EVENTS, { description: 'Audit events handed to the sinks, by kind' }),
        dropped: meter.createCounter(GOVERNOR_METRIC.AUDIT_DROPPED, { description: 'Audit events dropped: a full queue, a sink that gave up, or an event that failed validation' }),
        errors: meter.createCounter(GOVERNOR_METRIC.AUDIT_SINK_ERRORS, { description: 'Failed delivery attempts of an audit sink' }),
        delivered: meter.createCounter(GOVERNOR_METRIC.AUDIT_DELIVERED, {
          description: 'Audit events that left the process: written to the file, sent to syslog, accepted by the OTLP logs endpoint',
        }),
      };
      for (const sink of this.opts.sinks) this.zeroSeries(sink);
      this.instruments.dropped.add(0, { [AUDIT_ATTR.REASON]: 'queue_full' });
      for (const [k, n] of this.early.events) this.instruments.events.add(n, { [AUDIT_ATTR.KIND]: k });
      for (const [k, n] of this.early.dropped) this.instruments.dropped.add(n, JSON.parse(k));
      for (const [k, n] of this.early.errors) this.instruments.errors.add(n, { [AUDIT_ATTR.SINK]: k });
      for (const [k, n] of this.early.delivered) this.instruments.delivered.add(n, { [AUDIT_ATTR.SINK]: k });
      this.early = { events: new Map(), dropped: new Map(), errors: new Map(), delivered: new Map() };
    } catch {
      /* metrics are best effort */
    }
  }

  /** A sink dropped `n` events (its own queue was full, or it gave up). */
  sinkDropped(sink: string, n = 1): void {
    this.dropped('sink_queue_full', sink, n);
  }

  /** A sink's delivery attempt failed; it retries by itself. */
  sinkError(sink: string, error: unknown): void {
    try {
      if (this.instruments) this.instruments.errors.add(1, { [AUDIT_ATTR.SINK]: sink });
      else bump(this.early.errors, sink, 1);
      diag.debug(`llm-governor: audit sink ${sink} failed an attempt (retrying): ${(error as Error)?.message ?? error}`);
    } catch {
      /* never into the app */
    }
  }

  /** A sink's `n` events left the process for good. */
  sinkDelivered(sink: string, n: number): void {
    try {
      if (this.instruments) this.instruments.delivered.add(n, { [AUDIT_ATTR.SINK]: sink });
      else bump(this.early.delivered, sink, n);
    } catch {
      /* never into the app */
    }
  }

  /**
   * An export of `n` events failed after the exporter's own retries, and they are lost (an OTLP
   * logs export the Collector refused): a failed attempt, and `n` events dropped.
   */
  sinkLost(sink: string, n: number, error: unknown, warn = true): void {
    this.sinkError(sink, error);
    this.dropped('export_failed', sink, n, warn);
  }

  /**
   * A reload's sinks: what was recorded so far goes to the sinks in force until now, later events
   * to the new ones; a sink left out is flushed and closed. Never rejects.
   */
  async replaceSinks(sinks: AuditSink[]): Promise<void> {
    this.drain();
    const gone = this.opts.sinks.filter((s) => !sinks.includes(s));
    this.opts.sinks = sinks;
    for (const sink of sinks) this.zeroSeries(sink);
    await Promise.all(gone.map((s) => s.close().catch(() => undefined)));
  }

  /** Resolves when every event recorded so far is delivered by every sink (or failed an attempt). */
  async flush(): Promise<void> {
    this.drain();
    await Promise.all(this.opts.sinks.map((s) => s.flush().catch(() => undefined)));
  }

  /** For `exit` and signal handlers: builds what is queued and flushes the sinks synchronously. */
  flushSync(): void {
    this.drain();
    for (const s of this.opts.sinks) {
      try {
        s.flushSync?.();
      } catch {
        /* never into the app */
      }
    }
  }

  /** Flushes and closes every sink. Events recorded afterwards are dropped. */
  async close(): Promise<void> {
    this.drain();
    this.closed = true;
    await Promise.all(this.opts.sinks.map((s) => s.close().catch(() => undefined)));
  }

  /** Zero series, so that rules can tell "no drops" from "no data". */
  private zeroSeries(sink: AuditSink): void {
    if (!this.instruments) return;
    this.instruments.dropped.add(0, { [AUDIT_ATTR.REASON]: 'sink_queue_full', [AUDIT_ATTR.SINK]: sink.name });
    this.instruments.errors.add(0, { [AUDIT_ATTR.SINK]: sink.name });
    this.instruments.delivered.add(0, { [AUDIT_ATTR.SINK]: sink.name });
  }

  private anySinkActive(): boolean {
    for (const sink of this.opts.sinks) if (!sink.isActive || sink.isActive()) return true;
    return false;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Unref'd: the trail never keeps the process alive; exit hooks drain what is left.
    setImmediate(() => this.drain()).unref();
  }

  /** Builds, validates and hands every queued event to the sinks. */
  private drain(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    for (const item of batch) {
      try {
        if (this.closed) {
          this.dropped('closed');
          continue;
        }
        const event = auditEvent(item.kind, { ...item.facts, source: this.opts.source });
        const checked = ocsfApiActivitySchema.safeParse(event);
        if (!checked.success) {
          this.invalid(item.kind, checked.error.issues.map((i) => i.path.join('.') || '(root)').join(', '));
          continue;
        }
        this.stats.emitted++;
        if (this.instruments) this.instruments.events.add(1, { [AUDIT_ATTR.KIND]: item.kind });
        else bump(this.early.events, item.kind, 1);
        for (const sink of this.opts.sinks) {
          try {
            if (sink.isActive && !sink.isActive()) continue;
            sink.write(event, item.span);
          } catch {
            this.sinkDropped(sink.name);
          }
        }
      } catch (err) {
        this.invalid(item.kind, `(the builder failed: ${(err as Error)?.message ?? err})`);
      }
    }
  }

  private invalid(kind: string, paths: string): void {
    this.stats.invalid++;
    this.dropped('invalid');
    if (this.warnedInvalid) return;
    this.warnedInvalid = true;
    diag.warn(`llm-governor: an audit event (${kind}) failed OCSF validation at ${paths} and was dropped (counted in llm_governor_audit_dropped_total{reason="invalid"}); please report this`);
  }

  private dropped(reason: DropReason, sink?: string, n = 1, warn = true): void {
    try {
      this.stats.dropped += n;
      const attrs: Record<string, string> = { [AUDIT_ATTR.REASON]: reason, ...(sink ? { [AUDIT_ATTR.SINK]: sink } : {}) };
      if (this.instruments) this.instruments.dropped.add(n, attrs);
      else bump(this.early.dropped, JSON.stringify(attrs), n);
      if (!warn || this.warnedDrop || reason === 'invalid' || reason === 'closed') return;
      this.warnedDrop = true;
      const what =
        reason === 'export_failed'
          ? `the ${sink} sink could not export audit events (${n} lost so far)`
          : `${sink ? `the ${sink} sink's queue` : 'the audit queue'} is full; audit events are being dropped`;
      diag.warn(`llm-governor: ${what} (counted in llm_governor_audit_dropped_total). This warning is shown once.`);
    } catch {
      /* never into the app */
    }
  }
}

function bump(map: Map<string, number>, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}
