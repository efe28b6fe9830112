// The client-side rate limiter: per provider+model sliding windows (RPM, TPM), a fair FIFO queue,
// the provider's x-ratelimit-* headers, shared through Redis when `redis_url` is set.
export { RateLimiter, type RateLimitPermit } from './limiter';
export { RateLimitWaitExceeded } from './errors';
export type { RateLimitTarget } from './limits';
