import type { SendLayer } from '../send-layer';
import { cacheableHeaders, isJsonAnswer, refusalIn, replayResponse } from '../wire';

/**
 * The response cache on the send path: a call that admission found in the cache is answered from
 * it (nothing is sent); a fresh JSON answer to a cacheable call is stored once served.
 */
export const cacheReplay: SendLayer = (next) => async (req, call) => {
  if (call.cached) return replayResponse(call.cached);
  const response = await next(req, call);
  const cache = call.cacheKey ? call.guards?.cache : undefined;
  const key = call.cacheKey;
  if (cache && key && response.ok && !refusalIn(response) && response.bodyUsed === false && !call.stream && isJsonAnswer(response)) {
    // The body was read whole (withBody): a clone shares nothing with the app's copy.
    void response
      .clone()
      .text()
      .then((body) => cache.set(key, { status: response.status, headers: cacheableHeaders(response.headers), body }))
      .catch(() => undefined);
  }
  return response;
};
