import { metrics, trace } from '@opentelemetry/api';
import { processAuditTrail, type AuditTrail } from './audit';
import { loadConfig, type LoadedConfig } from './config/load';
import type { GovernorConfig } from './config/schema';
import { Governor } from './cost/governor';
import { createGuards, type Guards } from './guards';
import type { Call, Runtime } from './instrumentation/call';
import { GenAiMetrics } from './instrumentation/metrics';
import { patchClientMethods } from './instrumentation/patch';
import { INSTRUMENTATION_NAME } from './semconv';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const PACKAGE_VERSION: string = require('../package.json').version;

let shared: { loaded: LoadedConfig; config: GovernorConfig; runtime?: Runtime; open: Set<Call> } | undefined;

/** The runtime for hand-wrapped clients: the app's own global tracer and meter providers. */
function runtime(): Runtime {
  if (!shared) {
    const loaded = loadConfig();
    shared = { loaded, config: loaded.config, open: new Set() };
  }
  if (!shared.runtime) {
    const s = shared;
    let meterMetrics: GenAiMetrics | undefined;
    let governor: Governor | undefined;
    let guards: Guards | undefined;
    let audit: AuditTrail | undefined;
    const auditTrail = () => {
      if (!audit) {
        audit = processAuditTrail(s.loaded, PACKAGE_VERSION);
        audit.setMeter(metrics.getMeter(INSTRUMENTATION_NAME));
      }
      return audit;
    };
    s.runtime = {
      config: s.config,
      get tracer() {
        return trace.getTracer(INSTRUMENTATION_NAME);
      },
      // The meter API has no proxy: create the instruments on first use, after the app's SDK started.
      get metrics() {
        return (meterMetrics ??= new GenAiMetrics(metrics.getMeter(INSTRUMENTATION_NAME), s.config.wire_label_limit));
      },
      get governor() {
        return (governor ??= new Governor(s.config, metrics.getMeter(INSTRUMENTATION_NAME), Date.now, undefined, auditTrail(), this.metrics.labels));
      },
      get guards() {
        return (guards ??= createGuards(s.config, metrics.getMeter(INSTRUMENTATION_NAME), auditTrail()));
      },
      get audit() {
        return auditTrail();
      },
      open: s.open,
    };
  }
  return shared.runtime as Runtime;
}

/**
 * Instruments one client built by hand, for apps that run their own OpenTelemetry setup and do
 * not use the preload. Returns the same client object. Wrapping twice is harmless.
 */
export function wrap<T extends object>(client: T): T {
  if (!client || typeof (client as { post?: unknown }).post !== 'function') {
    throw new TypeError('llm-governor: wrap() expects an openai client (new OpenAI(), new AzureOpenAI())');
  }
  patchClientMethods(client, runtime, () => runtime().config.provider_overrides);
  return client;
}
