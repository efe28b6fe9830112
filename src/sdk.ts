import { diag, metrics, trace } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { defaultResource, detectResources, envDetector, hostDetector, processDetector, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { sharedPrometheusEndpoint } from './metrics-endpoint/endpoint';
import { logProcessorsFromEnv, type AuditExportReport } from './sdk-logs';

/**
 * Starts the OpenTelemetry SDK for an app that has none, from the standard environment:
 * OTEL_TRACES_EXPORTER / OTEL_LOGS_EXPORTER / OTEL_EXPORTER_OTLP_* / OTEL_SERVICE_NAME /
 * OTEL_SDK_DISABLED. Metrics default to a Prometheus endpoint (OTEL_EXPORTER_PROMETHEUS_HOST /
 * OTEL_EXPORTER_PROMETHEUS_PORT, default 9464), one for all the processes and threads of the
 * app (metrics-endpoint/), unless OTEL_METRICS_EXPORTER asks for another exporter. The
 * log exporters are the ones NodeSDK would build, observed: `auditExports` hears what each
 * really delivered of the audit records, and what it lost.
 */
export function startSdk(options: { instrumentations: Instrumentation[]; serviceName?: string; auditExports?: AuditExportReport }): NodeSDK | undefined {
  if (/^true$/i.test(process.env.OTEL_SDK_DISABLED ?? '')) return undefined;
  const asked = process.env.OTEL_METRICS_EXPORTER?.trim().toLowerCase();
  const metricsFromEnv = !!asked && asked !== 'prometheus';
  const logRecordProcessors = options.auditExports ? logProcessorsFromEnv(options.auditExports) : undefined;
  const sdk = new NodeSDK({
    instrumentations: options.instrumentations,
    ...(metricsFromEnv ? {} : { metricReaders: [sharedPrometheusEndpoint()] }),
    ...(logRecordProcessors ? { logRecordProcessors } : {}),
    resource: settledResource(options.serviceName),
    autoDetectResources: false,
  });
  sdk.start();
  return sdk;
}

/**
 * The resource NodeSDK would detect (env, process, host), settled at once. Its host id is read
 * asynchronously, and until someone awaits it every Prometheus scrape logs an error.
 */
function settledResource(serviceName: string | undefined): Resource {
  let resource = defaultResource().merge(detectResources({ detectors: [envDetector, processDetector, hostDetector] }));
  if (serviceName && !process.env.OTEL_SERVICE_NAME) resource = resource.merge(resourceFromAttributes({ 'service.name': serviceName }));
  void resource.waitForAsyncAttributes?.().catch(() => undefined);
  return resource;
}

/** Exports what the registered providers hold now (traces, logs, metrics), without shutting anything down. */
export async function forceFlushTelemetry(): Promise<void> {
  const tracer = (trace.getTracerProvider() as { getDelegate?: () => unknown }).getDelegate?.() as { forceFlush?: () => Promise<void> } | undefined;
  const logger = logs.getLoggerProvider() as { forceFlush?: () => Promise<void> };
  const meter = metrics.getMeterProvider() as { forceFlush?: () => Promise<void> };
  await Promise.allSettled([tracer?.forceFlush?.(), logger.forceFlush?.(), meter.forceFlush?.()]);
}

/** True when something (the app, or another preload) already registered a global tracer provider. */
export function hasGlobalTracerProvider(): boolean {
  const provider = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const delegate = provider.getDelegate?.();
  return !!delegate && delegate.constructor?.name !== 'NoopTracerProvider';
}

export async function shutdownSdk(sdk: NodeSDK | undefined, timeoutMs: number): Promise<void> {
  if (!sdk) return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      sdk.shutdown(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      }),
    ]);
  } catch (err) {
    diag.warn('llm-governor: telemetry flush failed on shutdown', err);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
