/**
 * The retry policy, as pure functions: which answers are worth another attempt, and how long to
 * wait before it. The loop itself is the retry layer (`pipeline/layers/retry.ts`): exactly
 * one loop per call, ours for JSON requests (the SDK's own is then set to 0 retries).
 */

export interface RetrySettings {
  /** Cap of the exponential backoff, in ms. */
  maxDelayMs: number;
  /** The longest `retry-after` honoured, in ms; a longer one means "not now": no retry here. */
  retryAfterMaxMs: number;
}

interface HeaderLike {
  get(name: string): string | null;
}

/**
 * Is this HTTP answer worth another attempt? The provider's `x-should-retry` header decides when
 * present (as the SDK does); otherwise 408, 409, 429 and every 5xx are.
 */
export function isRetryableStatus(status: number, headers?: HeaderLike): boolean {
  const hint = headers?.get('x-should-retry');
  if (hint === 'true') return true;
  if (hint === 'false') return false;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * The wait the provider asked for, in ms: `retry-after-ms`, else `retry-after` (seconds or an
 * HTTP date). Undefined when it gave none (or nothing readable).
 */
export function requestedDelayMs(headers: HeaderLike | undefined, nowMs: number): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '') {
    const n = Number(ms);
    if (Number.isFinite(n) && n >= 0) return n;
  }
  const after = headers.get('retry-after');
  if (after === null || after.trim() === '') return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(after);
  return Number.isFinite(date) ? Math.max(0, date - nowMs) : undefined;
}

/**
 * The wait before retry number `retry` (1 for the first retry): the provider's own delay when it
 * gave one within `retryAfterMaxMs`; else exponential backoff from 0.5 s, capped, with up to 25%
 * jitter taken off. Returns undefined when the provider asked for longer than we honour.
 */
export function retryDelayMs(retry: number, settings: RetrySettings, headers?: HeaderLike, nowMs = Date.now(), random = Math.random): number | undefined {
  const asked = requestedDelayMs(headers, nowMs);
  if (asked !== undefined) return asked <= settings.retryAfterMaxMs ? Math.round(asked) : undefined;
  const base = Math.min(500 * 2 ** Math.max(0, retry - 1), settings.maxDelayMs);
  return Math.round(base * (1 - 0.25 * random()));
}

/** Waits `ms`, or rejects at once with the signal's reason when it aborts. */
export function sleep(ms: number, signal?: AbortSignal | null): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}
