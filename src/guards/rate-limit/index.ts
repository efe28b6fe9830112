// The client-side rate limiter: per provider+model sliding windows (RPM, TPM), a fair FIFO queue,
// the provider's x-ratelimit-* headers, shared through Redis when `redis_url` is set.
export { RateLimiter, type RateLimitPermit, type RateLimiterOptions } from './limiter';
export { RateLimitWaitExceeded } from './errors';
export type { RateLimitTarget, Limits } from './limits';
export { limitsResolver, targetKey } from './limits';
export { parseResetMs } from './duration';
export { capacityWait, SlidingWindow, WINDOW_MS } from './window';
