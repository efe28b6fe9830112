import { cacheKey } from '../../guards/cache';
import { ATTR } from '../../semconv';
import type { Body } from '../../operations';
import { headerValue } from '../wire';
import type { Guards } from '../../guards';
import type { AdmissionStep, Admitting } from './types';

/** Per call, `x-llm-governor-cache: on|off` in the request options' headers overrides the config. */
const CACHE_HEADER = 'x-llm-governor-cache';

/**
 * The response cache, for non-streamed JSON calls that want it (by config, or per call by
 * header): a hit is kept for the send path to replay, and the call is then not reserved on any
 * budget; a miss leaves the key for the answer to be stored under.
 */
export const lookUpCache: AdmissionStep = (a) => {
  const guards = a.guards;
  if (!a.plain || !guards || !cacheWanted(guards.cacheByDefault, a.original.headers) || a.rec.stream) return;
  let key: string | undefined;
  try {
    key = cacheKey({ provider: a.provider.name, server: a.provider.serverAddress, path: a.path, body: a.original.body as Body });
  } catch {
    return;
  }
  if (!key) return;
  a.cacheKey = key;
  return lookUp(a, guards.cache, key);
};

async function lookUp(a: Admitting, cache: Guards['cache'], key: string): Promise<void> {
  const hit = await cache.get(key);
  cache.countLookup(hit ? 'hit' : 'miss', a.identity());
  if (!hit) return;
  a.cached = hit;
  a.rec.cacheHit = true;
  a.setAttributes({ [ATTR.CACHE_HIT]: true });
  a.audit('cache_hit', { statusCode: hit.status });
}

function cacheWanted(byDefault: boolean, headers: unknown): boolean {
  const v = headerValue(headers, CACHE_HEADER)?.toLowerCase();
  if (v === 'off' || v === 'false' || v === '0') return false;
  if (v === 'on' || v === 'true' || v === '1') return true;
  return byDefault;
}
