import type { Guards } from '../../guards';
import type { CachedResponse } from '../../guards/cache';
import type { CallScope, Outgoing, Send, SendLayer } from '../send-layer';
import { cacheableHeaders, isJsonAnswer, refusalIn, replayResponse } from '../wire';

/**
 * The response cache on the send path: a call that admission found in the cache is answered from
 * it (nothing is sent); a fresh JSON answer to a cacheable call is stored once served.
 */
export const cacheReplay: SendLayer = (next) => (req, call) => {
  if (call.cached) return replay(call.cached);
  const cache = call.cacheKey ? call.guards?.cache : undefined;
  // Nothing to replay or store: the layer steps aside (no promise of its own on the hot path).
  if (!cache) return next(req, call);
  return sendAndStore(next, req, call, cache, call.cacheKey!);
};

async function replay(cached: CachedResponse): Promise<Response> {
  return replayResponse(cached);
}

async function sendAndStore(next: Send, req: Outgoing, call: CallScope, cache: Guards['cache'], key: string): Promise<Response> {
  const response = await next(req, call);
  // A stale answer served in an outage (`call.cached` set by then) is not stored again as fresh.
  if (!call.cached && response.ok && !refusalIn(response) && response.bodyUsed === false && !call.stream && isJsonAnswer(response)) {
    // The body was read whole (withBody): a clone shares nothing with the app's copy.
    void response
      .clone()
      .text()
      .then((body) => cache.set(key, { status: response.status, headers: cacheableHeaders(response.headers), body }))
      .catch(() => undefined);
  }
  return response;
}
