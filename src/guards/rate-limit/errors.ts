/** Thrown (rejected) when a call would wait in the rate limiter longer than `rate_limit_max_wait_seconds`. */
export class RateLimitWaitExceeded extends Error {
  /** The limit that held the call: `<provider>|<model>|rpm`, `…|tpm`, or `…|provider-requests` / `…|provider-tokens` (a pause from the provider's headers). */
  readonly limiter: string;
  /** How long the call waited before it was refused (0 when refused at once: the wait was known to be too long). */
  readonly waitedMs: number;
  /** Estimated ms until the limit has room again (from now). */
  readonly retryAfterMs?: number;

  constructor(limiter: string, waitedMs: number, retryAfterMs: number | undefined, maxWaitMs: number) {
    const after = retryAfterMs === undefined ? '' : `; capacity expected in about ${Math.ceil(retryAfterMs)} ms`;
    super(`llm-governor: rate limit ${limiter}: the call would wait longer than the maximum of ${maxWaitMs / 1000} s (waited ${Math.round(waitedMs)} ms)${after}`);
    this.name = 'RateLimitWaitExceeded';
    this.limiter = limiter;
    this.waitedMs = waitedMs;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }
}

/** What a waiter rejects with when its call's signal aborts. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}
