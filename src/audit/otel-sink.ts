import { ROOT_CONTEXT, trace, type SpanContext } from '@opentelemetry/api';
import { logs, SeverityNumber, type AnyValueMap, type Logger, type LoggerProvider } from '@opentelemetry/api-logs';
import { AUDIT_ATTR, AUDIT_EVENT_NAME } from '../semconv';
import type { OcsfApiActivity } from './ocsf';
import type { AuditSink } from './sink';

/** OCSF severity → OpenTelemetry log severity. */
const SEVERITY: Record<number, { number: SeverityNumber; text: string }> = {
  1: { number: SeverityNumber.INFO, text: 'INFO' },
  2: { number: SeverityNumber.INFO2, text: 'INFO' },
  3: { number: SeverityNumber.WARN, text: 'WARN' },
  4: { number: SeverityNumber.ERROR, text: 'ERROR' },
  5: { number: SeverityNumber.FATAL, text: 'FATAL' },
  6: { number: SeverityNumber.FATAL2, text: 'FATAL' },
};

/**
 * The logger of whatever logger provider is registered globally now: the preload's NodeSDK, or
 * the app's own. Asked again when the provider changes, never taken once at start-up: a logger
 * taken before the provider is registered is a proxy of this copy of the Logs API, and when the
 * provider is registered through another copy (an installed app can hold several), that proxy
 * never learns of it and drops every record.
 */
export function globalLogger(name: string, version?: string): () => Logger {
  let provider: LoggerProvider | undefined;
  let logger: Logger | undefined;
  return () => {
    const current = logs.getLoggerProvider();
    if (current !== provider || !logger) {
      provider = current;
      logger = current.getLogger(name, version);
    }
    return logger;
  };
}

/**
 * Audit events as OpenTelemetry log records through the Logs API: event name
 * `llm_governor.audit`, the OCSF event as the structured body, and the call's span as the record's
 * trace context. Whatever logger provider the process registered (the preload's NodeSDK, from
 * `OTEL_LOGS_EXPORTER` / `OTEL_EXPORTER_OTLP_*`, or the app's own) batches and exports them;
 * without one the Logs API is a no-op. Queueing, retries and export belong to that provider's
 * processor, so `flush` here has nothing of its own to wait for: the SDK's shutdown flushes it.
 * What the preload's own exporter really delivered is reported to the trail (see `sdk-logs.ts`).
 */
export class OtelLogSink implements AuditSink {
  readonly name = 'otel';

  /** `logger` is asked on every write: the provider may be registered after start-up. */
  constructor(private readonly logger: () => Logger) {}

  write(event: OcsfApiActivity, span?: SpanContext): boolean {
    try {
      const severity = SEVERITY[event.severity_id] ?? SEVERITY[1]!;
      this.logger().emit({
        eventName: AUDIT_EVENT_NAME,
        timestamp: event.time,
        severityNumber: severity.number,
        severityText: severity.text,
        body: event as unknown as AnyValueMap,
        attributes: { [AUDIT_ATTR.KIND]: event.unmapped.kind, [AUDIT_ATTR.OCSF_CLASS_UID]: event.class_uid },
        ...(span && trace.isSpanContextValid(span) ? { context: trace.setSpanContext(ROOT_CONTEXT, span) } : {}),
      });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Only once a logger provider is registered (the preload's NodeSDK with a logs exporter, or the
   * app's own): until then the Logs API's proxy drops every record, so there is nothing to build.
   */
  isActive(): boolean {
    const name = (logs.getLoggerProvider() as { constructor?: { name?: string } }).constructor?.name;
    return name !== 'ProxyLoggerProvider' && name !== 'NoopLoggerProvider';
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
