/** A one-minute request/token window behind the `x-ratelimit-*` headers. */

const LIMIT_REQUESTS = 10_000;
const LIMIT_TOKENS = 10_000_000;
const WINDOW_MS = 60_000;

export class RateWindow {
  private start = 0;
  private requests = 0;
  private tokens = 0;

  constructor(private readonly now: () => number = Date.now) {}

  private roll(): void {
    const t = this.now();
    if (t - this.start >= WINDOW_MS) {
      this.start = t;
      this.requests = 0;
      this.tokens = 0;
    }
  }

  hit(): void {
    this.roll();
    this.requests++;
  }

  charge(tokens: number): void {
    this.roll();
    this.tokens += Math.max(0, tokens);
  }

  reset(): void {
    this.start = 0;
    this.requests = 0;
    this.tokens = 0;
  }

  headers(): Record<string, string> {
    this.roll();
    return {
      'x-ratelimit-limit-requests': String(LIMIT_REQUESTS),
      'x-ratelimit-limit-tokens': String(LIMIT_TOKENS),
      'x-ratelimit-remaining-requests': String(Math.max(0, LIMIT_REQUESTS - this.requests)),
      'x-ratelimit-remaining-tokens': String(Math.max(0, LIMIT_TOKENS - this.tokens)),
      'x-ratelimit-reset-requests': formatDuration((this.requests * WINDOW_MS) / LIMIT_REQUESTS),
      'x-ratelimit-reset-tokens': formatDuration((this.tokens * WINDOW_MS) / LIMIT_TOKENS),
    };
  }
}

/** The API's duration format: `6ms`, `8.64s`, `1m30s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${Number(seconds.toFixed(3))}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${Number((seconds - minutes * 60).toFixed(3))}s`;
}
