export { cacheKey, canonicalJson, cacheableOperationPath, CACHE_KEY_VERSION, CACHEABLE_PATHS, IGNORED_FIELDS, type CacheKeyInput } from './key';
export { MAX_BODY_BYTES, type CachedResponse } from './entry';
export { ResponseCache, type ResponseCacheOptions } from './response-cache';
