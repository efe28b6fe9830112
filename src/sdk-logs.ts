import type { ExportResult } from '@opentelemetry/core';
import { BatchLogRecordProcessor, ConsoleLogRecordExporter, SimpleLogRecordProcessor, type LogRecordExporter, type LogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { diag } from '@opentelemetry/api';
import { AUDIT_EVENT_NAME } from './semconv';

/** What became of the audit records an exporter was handed: exported, or failed (and lost). */
export interface AuditExportReport {
  delivered(n: number): void;
  failed(n: number, error: unknown): void;
}

const SUCCESS = 0; // ExportResultCode.SUCCESS

/**
 * An exporter that reports what really left the process: of each batch, how many audit records
 * the backend accepted and how many were lost with a failed export. Everything else about the
 * exporter (its other records, its retries, flush and shutdown) is unchanged.
 */
function observedExporter(exporter: LogRecordExporter, report: AuditExportReport): LogRecordExporter {
  return {
    export(records: ReadableLogRecord[], done: (result: ExportResult) => void) {
      let audit = 0;
      for (const r of records) if (r.eventName === AUDIT_EVENT_NAME) audit++;
      exporter.export(records, (result) => {
        try {
          if (audit > 0) {
            if (result.code === SUCCESS) report.delivered(audit);
            else report.failed(audit, result.error ?? new Error('log export failed'));
          }
        } catch {
          /* counting never breaks the export */
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

type ExporterClass = new () => LogRecordExporter;

/** The OTLP log exporter for a protocol, loaded only when the environment asks for it. */
const OTLP: Record<string, () => ExporterClass> = {
  /* eslint-disable @typescript-eslint/no-require-imports */
  grpc: () => require('@opentelemetry/exporter-logs-otlp-grpc').OTLPLogExporter,
  'http/json': () => require('@opentelemetry/exporter-logs-otlp-http').OTLPLogExporter,
  'http/protobuf': () => require('@opentelemetry/exporter-logs-otlp-proto').OTLPLogExporter,
  /* eslint-enable @typescript-eslint/no-require-imports */
};

function list(value: string | undefined): string[] {
  return [
    ...new Set(
      (value ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
}

function nonNegative(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * The log record processors NodeSDK would build from the standard environment
 * (`OTEL_LOGS_EXPORTER`, default `otlp`; `OTEL_EXPORTER_OTLP_LOGS_PROTOCOL` /
 * `OTEL_EXPORTER_OTLP_PROTOCOL`, default `http/protobuf`; `OTEL_BLRP_*`), with each exporter
 * observed (see `observedExporter`). Undefined for `none`: no logger provider at all.
 */
export function logProcessorsFromEnv(report: AuditExportReport, env: NodeJS.ProcessEnv = process.env): LogRecordProcessor[] | undefined {
  const names = list(env.OTEL_LOGS_EXPORTER);
  if (names.length === 0) names.push('otlp');
  if (names.includes('none')) return undefined;
  const out: LogRecordProcessor[] = [];
  for (const name of names) {
    if (name === 'console') {
      out.push(new SimpleLogRecordProcessor({ exporter: observedExporter(new ConsoleLogRecordExporter(), report) }));
    } else if (name === 'otlp') {
      const protocol = (env.OTEL_EXPORTER_OTLP_LOGS_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL)?.trim() || 'http/protobuf';
      const load = OTLP[protocol] ?? OTLP['http/protobuf']!;
      if (!OTLP[protocol]) diag.warn(`Unsupported OTLP logs protocol: "${protocol}". Using http/protobuf.`);
      const Exporter = load();
      out.push(
        new BatchLogRecordProcessor({
          exporter: observedExporter(new Exporter(), report),
          maxQueueSize: nonNegative(env.OTEL_BLRP_MAX_QUEUE_SIZE),
          scheduledDelayMillis: nonNegative(env.OTEL_BLRP_SCHEDULE_DELAY),
          exportTimeoutMillis: nonNegative(env.OTEL_BLRP_EXPORT_TIMEOUT),
          maxExportBatchSize: nonNegative(env.OTEL_BLRP_MAX_EXPORT_BATCH_SIZE),
        }),
      );
    } else {
      diag.warn(`Unsupported OTEL_LOGS_EXPORTER value: "${name}". Supported values are: otlp, console, none.`);
    }
  }
  return out.length ? out : undefined;
}
