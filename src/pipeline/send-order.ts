import { breaker } from './layers/breaker';
import { cacheReplay } from './layers/cache-replay';
import { fallback } from './layers/fallback';
import { rateLimit } from './layers/rate-limit';
import { retry } from './layers/retry';
import { transport } from './layers/transport';
import { compose, type Send, type SendLayer } from './send-layer';

/**
 * The send path, declared once: each layer wraps the ones after it, the transport is innermost.
 *
 *   cache replay → fallback → retry → rate limit → breaker → transport
 *
 * A cached answer never reaches a provider; the fallback walk takes each target in turn; the
 * retry loop runs per target; every try waits for the rate limit, then passes the breaker (the
 * state right before sending), then goes out.
 */
export const SEND_LAYERS: readonly SendLayer[] = [cacheReplay, fallback, retry, rateLimit, breaker];

export const send: Send = compose(SEND_LAYERS, transport);
