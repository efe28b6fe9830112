/**
 * HTTP responses the send step hands to the SDK instead of the network's: a refusal of ours
 * (which the SDK turns into one of our `APIError` subclasses, see `patch.ts`), a cached answer,
 * or a body we already read. The SDK then does everything else exactly as it would.
 */
import type { CachedResponse } from '../guards/cache';
import type { GovernorErrorCode } from '../errors';

/** The header that marks a refusal of ours; `makeStatusError` reads it. */
export const GOVERNOR_HEADER = 'x-llm-governor';

/** The error fields a refusal carries, read back from a governor error. */
export interface Refusal {
  code: GovernorErrorCode;
  status: number;
  message: string;
  details: object;
}

/** A refusal as an HTTP answer: the SDK's own error path builds the app's error from it, never retrying. */
export function refusalResponse(r: Refusal): Response {
  const body = JSON.stringify({ error: { message: r.message, type: r.code, code: r.code, param: null, details: r.details } });
  return new Response(body, {
    status: r.status,
    headers: { 'content-type': 'application/json', [GOVERNOR_HEADER]: r.code, 'x-should-retry': 'false' },
  });
}

/** The refusal an error of ours stands for (from `governorError`), or undefined for any other error. */
export function refusalOf(error: unknown): Refusal | undefined {
  const e = error as { llmGovernorCode?: GovernorErrorCode; status?: number; error?: { message?: string }; details?: object } | undefined;
  if (!e?.llmGovernorCode || typeof e.status !== 'number') return undefined;
  return { code: e.llmGovernorCode, status: e.status, message: e.error?.message ?? String((error as Error).message), details: e.details ?? {} };
}

/** Headers kept with a cached answer: enough for the SDK and the app's `withResponse()`. */
const CACHED_HEADERS = ['content-type', 'x-request-id', 'openai-model', 'openai-processing-ms'];

export function cacheableHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of CACHED_HEADERS) {
    const v = headers.get(name);
    if (v !== null) out[name] = v;
  }
  return out;
}

/** A cached answer, replayed: nothing is sent upstream. */
export function replayResponse(entry: CachedResponse): Response {
  return new Response(entry.body, { status: entry.status, headers: { ...entry.headers, [GOVERNOR_HEADER + '-cache']: 'hit' } });
}

/** The same answer with a body already read as text (so it could be checked, and cached). */
export function withBody(original: Response, text: string): Response {
  const copy = new Response(text, { status: original.status, statusText: original.statusText, headers: original.headers });
  Object.defineProperty(copy, 'url', { value: original.url, enumerable: true });
  return copy;
}

/** A JSON answer to a request that did not ask for a stream: read whole, checked, maybe cached. */
export function isJsonAnswer(response: Response): boolean {
  return (response.headers.get('content-type') ?? '').includes('application/json');
}

/** Reads a header from the SDK's header shapes: a `Headers` (openai 5+) or a plain record (openai 4). */
export function headerValue(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const h = headers as { get?: (n: string) => unknown } & Record<string, unknown>;
  const v = typeof h.get === 'function' ? h.get(name) : h[name] ?? h[name.toLowerCase()];
  return typeof v === 'string' ? v : undefined;
}

/** The app's abort (not a timeout of ours): never retried, never sent to a fallback. */
export function isAbort(signal: AbortSignal | null | undefined): boolean {
  return !!signal?.aborted;
}
