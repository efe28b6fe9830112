import { diag } from '@opentelemetry/api';

let reported = 0;

/**
 * Runs telemetry code so that a fault in it never reaches the app: the error goes to the
 * OpenTelemetry diag logger (a few times, then silently) and `undefined` is returned.
 */
export function safely<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (reported < 10) {
      reported++;
      diag.error('llm-governor: internal telemetry error (the call itself is unaffected)', err);
    }
    return undefined;
  }
}
