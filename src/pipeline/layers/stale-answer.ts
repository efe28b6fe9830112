import type { ResponseCache } from '../../guards/cache';
import { endedOutage } from '../outage';
import type { CallScope, Outgoing, Send, SendLayer } from '../send-layer';
import { isAbort, replayResponse } from '../wire';
import { discard } from './retry';

/**
 * Stale answers during an outage (`cache_serve_stale_seconds`, off at 0): when the fallback walk
 * ended with every target it tried down (see `outage.ts`) and the cache still holds an answer to
 * the same request, past its TTL but within the window, the app gets that answer instead of the
 * failure: the same bytes a hit replays, counted, audited, and charged nothing (`servedStale`).
 * Never for a 4xx or a 429, a refusal of ours, or the app's own abort.
 */
export const staleAnswer: SendLayer = (next) => (req, call) => {
  const cache = staleWanted(call) ? call.guards?.cache : undefined;
  if (!cache) return next(req, call);
  return orStale(next, req, call, cache, call.cacheKey!);
};

/** A call the cache may answer stale: cacheable (a key), not already a hit, and the window on. Pure. */
export function staleWanted(call: Pick<CallScope, 'cacheKey' | 'cached' | 'config'>): boolean {
  return !!call.cacheKey && !call.cached && call.config.cache_serve_stale_seconds > 0;
}

async function orStale(next: Send, req: Outgoing, call: CallScope, cache: ResponseCache, key: string): Promise<Response> {
  let response: Response;
  try {
    response = await next(req, call);
  } catch (err) {
    const stale = await staleFor(err, call, cache, key);
    if (stale) return stale;
    throw err;
  }
  const stale = await staleFor(response, call, cache, key);
  if (!stale) return response;
  discard(response);
  return stale;
}

async function staleFor(failure: unknown, call: CallScope, cache: ResponseCache, key: string): Promise<Response | undefined> {
  if (!endedOutage(failure) || isAbort(call.signal)) return undefined;
  const entry = await cache.getStale(key);
  if (!entry) return undefined;
  call.servedStale(entry);
  return replayResponse(entry, 'stale');
}
