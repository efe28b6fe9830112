'use strict';
/**
 * The peer for comparison: @opentelemetry/instrumentation-openai, registered with a NodeSDK set
 * up exactly as llm-governor's preload sets up its own (src/sdk.ts): traces from the standard
 * environment (OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_*: the same OTLP/HTTP receiver), metrics
 * to a Prometheus exporter (OTEL_EXPORTER_PROMETHEUS_PORT, never scraped), logs as the environment
 * says (none in the benchmark), the same settled resource and no resource auto-detection.
 * Loaded with `--require` before the app, like a preload.
 */
const { NodeSDK } = require('@opentelemetry/sdk-node');
const { PrometheusExporter } = require('@opentelemetry/exporter-prometheus');
const { defaultResource, detectResources, envDetector, hostDetector, processDetector } = require('@opentelemetry/resources');

// BENCH_PEER_INSTRUMENT=0: the same NodeSDK with no instrumentation at all, to show what the
// OpenTelemetry SDK costs by itself (its AsyncLocalStorage context manager, mostly).
const instrument = process.env.BENCH_PEER_INSTRUMENT !== '0';
const instrumentations = [];
if (instrument) {
  const { OpenAIInstrumentation } = require('@opentelemetry/instrumentation-openai');
  instrumentations.push(new OpenAIInstrumentation());
}

const resource = defaultResource().merge(detectResources({ detectors: [envDetector, processDetector, hostDetector] }));
if (resource.waitForAsyncAttributes) resource.waitForAsyncAttributes().catch(() => undefined);

const sdk = new NodeSDK({
  instrumentations,
  metricReaders: [new PrometheusExporter()],
  resource,
  autoDetectResources: false,
});
sdk.start();
