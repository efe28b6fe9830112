import type { Attributes, Counter, Meter } from '@opentelemetry/api';
import { ATTR, GOVERNOR_METRIC } from '../../semconv';

/** The labels the cache instruments carry, besides `result`: nothing per tenant, user or prompt. */
const LABELS = [ATTR.PROVIDER_NAME, ATTR.REQUEST_MODEL, ATTR.OPERATION_NAME] as const;

/** Keeps only LABELS (string values) from a call's attributes. Pure. */
function cacheLabels(attrs: Record<string, string>): Attributes {
  const out: Attributes = {};
  for (const name of LABELS) {
    const value = attrs[name];
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}

/** `llm_governor.cache.requests` (lookups by result) and `llm_governor.cache.saved` (USD a hit avoided). */
export class CacheMetrics {
  private readonly requests: Counter;
  private readonly savedUsd: Counter;

  constructor(meter: Meter) {
    this.requests = meter.createCounter(GOVERNOR_METRIC.CACHE_REQUESTS, {
      description: 'Response cache lookups, by result (hit, miss, or stale: served past its TTL in an outage)',
      unit: '{request}',
    });
    this.savedUsd = meter.createCounter(GOVERNOR_METRIC.CACHE_SAVED, {
      description: 'Cost avoided by answering from the response cache',
      unit: 'USD',
    });
  }

  lookup(result: 'hit' | 'miss' | 'stale', attrs: Record<string, string>): void {
    this.requests.add(1, { ...cacheLabels(attrs), [ATTR.RESULT]: result });
  }

  /** Ignores amounts that are not finite and above 0 (a counter only goes up). */
  saved(usd: number, attrs: Record<string, string>): void {
    if (!Number.isFinite(usd) || usd <= 0) return;
    this.savedUsd.add(usd, cacheLabels(attrs));
  }
}
