import { createHash } from 'node:crypto';

/** Bump when the key's inputs or their encoding change: old entries then simply stop matching. */
const CACHE_KEY_VERSION = 'v1';

export interface CacheKeyInput {
  /** `gen_ai.provider.name` of the client. */
  provider: string;
  /** The server (base URL or host) the request goes to. */
  server?: string;
  /** The request path as given to `client.post()`, possibly under a base path (`/v1/chat/completions`). */
  path: string;
  /** The request body as the SDK will serialise it. */
  body: unknown;
}

/** Operations whose answer depends only on the request (matched on the end of the path). */
export const CACHEABLE_PATHS = ['/chat/completions', '/completions', '/embeddings', '/responses', '/moderations'] as const;

/**
 * Top-level body fields that do not change the answer: attribution and storage options, the
 * service tier, and `stream_options` (the governor injects `include_usage` itself).
 */
const IGNORED_FIELDS: ReadonlySet<string> = new Set(['user', 'metadata', 'store', 'safety_identifier', 'prompt_cache_key', 'service_tier', 'stream_options']);

/** The path without its query string and trailing slashes. */
function pathname(path: string): string {
  const q = path.search(/[?#]/);
  return (q >= 0 ? path.slice(0, q) : path).replace(/\/+$/, '');
}

/** Which cacheable operation a path is (`/responses`, …), or undefined. */
export function cacheableOperationPath(path: string): (typeof CACHEABLE_PATHS)[number] | undefined {
  const p = pathname(path);
  return CACHEABLE_PATHS.find((suffix) => p.endsWith(suffix));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Present in the sense of the wire: neither undefined nor null. */
function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/**
 * Responses API requests whose answer depends on state kept by the provider: a previous
 * response or a conversation, a background run, or a stored prompt without a pinned version.
 */
function dependsOnServerState(body: Record<string, unknown>): boolean {
  if (present(body.previous_response_id) || present(body.conversation) || body.background === true) return true;
  const prompt = body.prompt;
  return isPlainObject(prompt) && !present(prompt.version);
}

/**
 * Canonical JSON: object keys sorted recursively, arrays in order, undefined object members
 * dropped (as JSON.stringify does). Undefined when a value has no faithful JSON form (a class
 * instance such as a Blob, Date or Buffer, a function, a symbol, a bigint): such bodies are not
 * cached rather than risk two different requests sharing a key.
 */
export function canonicalJson(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return JSON.stringify(value); // NaN and ±Infinity are sent as null, so they key as null
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        const items: string[] = [];
        for (const item of value) {
          const json = item === undefined ? 'null' : canonicalJson(item);
          if (json === undefined) return undefined;
          items.push(json);
        }
        return `[${items.join(',')}]`;
      }
      if (!isPlainObject(value)) return undefined;
      const members: string[] = [];
      for (const name of Object.keys(value).sort()) {
        const member = value[name];
        if (member === undefined) continue;
        const json = canonicalJson(member);
        if (json === undefined) return undefined;
        members.push(`${JSON.stringify(name)}:${json}`);
      }
      return `{${members.join(',')}}`;
    }
    default:
      return undefined;
  }
}

/**
 * The cache key of a request, or undefined when it must not be cached. Pure.
 *
 * Exact match over provider, server, path and the canonical body minus IGNORED_FIELDS. The key is
 * `v1:` and a sha256 hex digest: short, and no prompt text ever reaches a store's key space.
 */
export function cacheKey(input: CacheKeyInput): string | undefined {
  const operation = cacheableOperationPath(input.path);
  if (!operation || !isPlainObject(input.body)) return undefined;
  if (operation === '/responses' && dependsOnServerState(input.body)) return undefined;
  const body: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(input.body)) if (!IGNORED_FIELDS.has(name)) body[name] = value;
  const canonical = canonicalJson({ provider: input.provider, server: input.server ?? null, path: input.path, body });
  if (canonical === undefined) return undefined;
  return `${CACHE_KEY_VERSION}:${createHash('sha256').update(canonical).digest('hex')}`;
}
