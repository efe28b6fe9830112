import { getState } from './runtime-state';
import { forceFlushTelemetry } from './sdk';

/**
 * For serverless handlers: `await flush()` before returning, so that nothing is lost when the
 * runtime freezes the process between invocations: budget settlements still on their way land,
 * the audit trail is written to its sinks, and spans, logs and metrics (where they are pushed over
 * OTLP) are exported. Nothing is closed: the next invocation goes on as before. Never throws; a
 * no-op without the preload.
 */
export async function flush(): Promise<void> {
  try {
    await getState()?.instrumentation?.flush();
    await forceFlushTelemetry();
  } catch {
    /* telemetry never throws into the app */
  }
}
