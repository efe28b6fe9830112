import type { Attributes, Counter, Meter } from '@opentelemetry/api';
import { ATTR, GOVERNOR_METRIC } from '../../semconv';
import { parseCount, parseResetMs } from './duration';
import type { RateLimitTarget } from './limits';

/** The provider's rate-limit headers, per kind of limit. */
const PROVIDER_HEADERS = (['requests', 'tokens'] as const).map((kind) => ({
  kind,
  suffix: `|${kind}`,
  remaining: `x-ratelimit-remaining-${kind}`,
  reset: `x-ratelimit-reset-${kind}`,
}));

interface Remaining {
  value: number;
  attrs: Attributes;
  expiresAt: number;
}

/** A pause a provider asked for: nothing is left of one of its limits until `until`. */
export interface ProviderPause {
  until: number;
  /** The limiter id that holds the calls: `<target key>|provider-requests` or `…|provider-tokens`. */
  by: string;
}

/**
 * The provider's `x-ratelimit-remaining-*` / `x-ratelimit-reset-*` headers: the remaining counts
 * become the gauge `llm_governor.ratelimit.remaining` (each value lives a window, or until its
 * reset), and a count at 0 is a pause until the reset. A reset longer than the window (a broken
 * or hostile `99999h`) is clamped to the window and counted.
 */
export class ProviderHeaders {
  private readonly remaining = new Map<string, Remaining>();
  private readonly clamped: Counter;

  constructor(
    meter: Meter,
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {
    this.clamped = meter.createCounter(GOVERNOR_METRIC.RATELIMIT_RESET_CLAMPED, {
      description: 'Provider rate-limit resets longer than the window, clamped to it (a hostile or broken header)',
    });
    meter
      .createObservableGauge(GOVERNOR_METRIC.RATELIMIT_REMAINING, {
        description: "Requests or tokens left in the provider's rate limit, from its x-ratelimit-remaining-* headers",
      })
      .addCallback((result) => {
        const at = this.now();
        for (const [key, r] of this.remaining) {
          if (r.expiresAt <= at) this.remaining.delete(key);
          else result.observe(r.value, r.attrs);
        }
      });
  }

  /** Reads one answer's headers for `target` (its key `key`); returns the pauses they ask for. */
  read(target: RateLimitTarget, key: string, headers: { get(name: string): string | null }, now: number): ProviderPause[] {
    const pauses: ProviderPause[] = [];
    for (const h of PROVIDER_HEADERS) {
      const remaining = parseCount(headers.get(h.remaining));
      if (remaining === undefined) continue;
      // The reset matters when nothing is left (it ends the pause); otherwise the gauge lives a window.
      let resetMs = remaining === 0 ? parseResetMs(headers.get(h.reset)) : undefined;
      // A provider's reset is within its window; a longer one (99999h) would block for years.
      if (resetMs !== undefined && resetMs > this.windowMs) {
        resetMs = this.windowMs;
        this.clamped.add(1, { [ATTR.PROVIDER_NAME]: target.provider, [ATTR.KIND]: h.kind });
      }
      const expiresAt = now + Math.max(this.windowMs, resetMs ?? 0);
      const id = key + h.suffix;
      const known = this.remaining.get(id);
      if (known) {
        known.value = remaining;
        known.expiresAt = expiresAt;
      } else {
        this.remaining.set(id, { value: remaining, attrs: { [ATTR.PROVIDER_NAME]: target.provider, [ATTR.REQUEST_MODEL]: target.model, [ATTR.KIND]: h.kind }, expiresAt });
      }
      if (remaining === 0 && resetMs !== undefined && resetMs > 0) pauses.push({ until: now + resetMs, by: `${key}|provider-${h.kind}` });
    }
    return pauses;
  }

  /** Drops gauge values past their time. */
  sweep(now: number): void {
    for (const [key, r] of this.remaining) if (r.expiresAt <= now) this.remaining.delete(key);
  }

  clear(): void {
    this.remaining.clear();
  }
}
