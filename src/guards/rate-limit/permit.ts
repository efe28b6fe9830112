import { diag } from '@opentelemetry/api';

/** What an admitted call holds of the rate limiter. */
export interface RateLimitPermit {
  /** ms this call waited in the queue before it was admitted */
  readonly waitedMs: number;
  /** Correct the token count recorded for this request once the real usage is known (optional). */
  settle(actualTokens?: number): void;
  /** The request was not sent after all (a later guard refused it): it no longer counts. */
  cancel(): void;
}

/** A permit that records nothing (no limit applies). */
export const FREE_PERMIT: RateLimitPermit = Object.freeze({ waitedMs: 0, settle: () => undefined, cancel: () => undefined });

export function freePermit(waitedMs: number): RateLimitPermit {
  return waitedMs > 0 ? { waitedMs, settle: () => undefined, cancel: () => undefined } : FREE_PERMIT;
}

/**
 * A permit for a send recorded in a window, settled once: corrected to the real tokens
 * (`reweigh`, only when they differ) or taken back (`remove`). Never throws.
 */
export function windowPermit(waitedMs: number, tokens: number, effects: { reweigh(next: number): void; remove(): void }): RateLimitPermit {
  let settled = false;
  const once = (what: string, fn: () => void) => {
    try {
      if (settled) return;
      settled = true;
      fn();
    } catch (error) {
      diag.debug(`llm-governor: rate limiter: ${what} failed: ${String(error)}`);
    }
  };
  return {
    waitedMs,
    settle: (actualTokens?: number) => {
      if (actualTokens === undefined || !Number.isFinite(actualTokens)) return;
      once('settle', () => {
        const next = sanitizeTokens(actualTokens);
        if (next !== tokens) effects.reweigh(next);
      });
    },
    cancel: () => once('cancel', () => effects.remove()),
  };
}

export function sanitizeTokens(tokens: number): number {
  return typeof tokens === 'number' && Number.isFinite(tokens) && tokens > 0 ? Math.ceil(tokens) : 0;
}
