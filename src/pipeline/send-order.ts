import { breaker } from './layers/breaker';
import { cacheReplay } from './layers/cache-replay';
import { fallback } from './layers/fallback';
import { rateLimit } from './layers/rate-limit';
import { retry } from './layers/retry';
import { staleAnswer } from './layers/stale-answer';
import { transport } from './layers/transport';
import { compose, type Send, type SendLayer } from './send-layer';

/**
 * The send path, declared once: each layer wraps the ones after it, the transport is innermost.
 *
 *   cache replay → stale answer → fallback → retry → rate limit → breaker → transport
 *
 * A cached answer never reaches a provider; a walk that found every target down may be answered
 * from the cache past its TTL (opt-in, `cache_serve_stale_seconds`); the fallback walk takes each
 * target in turn; the retry loop runs per target; every try waits for the rate limit, then passes
 * the breaker (the state right before sending), then goes out.
 */
export const SEND_LAYERS: readonly SendLayer[] = [cacheReplay, staleAnswer, fallback, retry, rateLimit, breaker];

export const send: Send = compose(SEND_LAYERS, transport);
