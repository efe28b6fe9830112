export { cacheKey, canonicalJson, cacheableOperationPath, type CacheKeyInput } from './key';
export { MAX_BODY_BYTES, type CachedResponse } from './entry';
export { ResponseCache } from './response-cache';
