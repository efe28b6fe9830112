import type { Counter, Meter } from '@opentelemetry/api';
import { ATTR, GOVERNOR_METRIC } from '../semconv';

/** Counters of the send loop: retries and fallbacks. */
export class ResilienceMetrics {
  private readonly fallbacks: Counter;
  private readonly retries: Counter;

  constructor(meter: Meter) {
    this.fallbacks = meter.createCounter(GOVERNOR_METRIC.FALLBACKS, { description: 'Calls sent on to a backup provider, by from and to (provider/model)' });
    this.retries = meter.createCounter(GOVERNOR_METRIC.RETRIES, { description: 'Attempts sent again after a retryable failure' });
  }

  fallback(from: string, to: string, reason: string): void {
    this.fallbacks.add(1, { [ATTR.FROM]: from, [ATTR.TO]: to, [ATTR.REJECT_REASON]: reason });
  }

  retry(provider: string, model: string, reason: string): void {
    this.retries.add(1, { [ATTR.PROVIDER_NAME]: provider, [ATTR.REQUEST_MODEL]: model, [ATTR.REJECT_REASON]: reason });
  }
}
