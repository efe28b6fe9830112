/** A response as the cache keeps it: enough to rebuild it with `new Response(body, {status, headers})`. */
export interface CachedResponse {
  status: number;
  headers: Record<string, string>;
  /** The raw body text: JSON, or a complete SSE stream (`text/event-stream`). */
  body: string;
  /** When it was stored (ms since the epoch). */
  storedAt: number;
}

/** Bodies larger than this (UTF-8 bytes) are not cached. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

/**
 * Headers never stored: per-user (`set-cookie`), per-connection, or describing the wire encoding
 * of a body we keep decoded (its length and compression would be wrong on replay).
 */
const DROPPED_HEADERS: ReadonlySet<string> = new Set([
  'set-cookie',
  'set-cookie2',
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
  'trailer',
]);

/** The headers worth replaying: lower-cased names, string values, without DROPPED_HEADERS. */
export function storableHeaders(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (typeof value !== 'string' || DROPPED_HEADERS.has(lower)) continue;
    out[lower] = value;
  }
  return out;
}

/**
 * A 2xx that `new Response(body, {status})` accepts with a body: not 204 or 205, which must not
 * have one. (The caller stores only successes; this keeps a bad entry from ever being replayed.)
 */
export function isStorableStatus(status: number): boolean {
  return Number.isInteger(status) && status >= 200 && status <= 299 && status !== 204 && status !== 205;
}

/** Why a response is not stored, or undefined when it may be. */
export function unstorableReason(value: { status: number; body: string }): string | undefined {
  if (!isStorableStatus(value.status)) return `status ${value.status}`;
  if (typeof value.body !== 'string') return 'body is not text';
  // Cheap bound first: a UTF-8 byte is at least one UTF-16 unit and at most three per unit.
  if (value.body.length > MAX_BODY_BYTES) return 'body too large';
  if (value.body.length * 3 > MAX_BODY_BYTES && Buffer.byteLength(value.body, 'utf8') > MAX_BODY_BYTES) return 'body too large';
  return undefined;
}

export function encodeEntry(entry: CachedResponse): string {
  return JSON.stringify({ status: entry.status, headers: entry.headers, body: entry.body, storedAt: entry.storedAt });
}

/** The entry in a stored value, or undefined when the value is not one (corrupt, foreign, older layout). */
export function decodeEntry(text: string): CachedResponse | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { status, headers, body, storedAt } = parsed as Record<string, unknown>;
  if (typeof status !== 'number' || !isStorableStatus(status)) return undefined;
  if (typeof body !== 'string' || typeof storedAt !== 'number' || !Number.isFinite(storedAt)) return undefined;
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return undefined;
  if (!Object.values(headers).every((v) => typeof v === 'string')) return undefined;
  return { status, headers: { ...(headers as Record<string, string>) }, body, storedAt };
}

/**
 * How old an entry is for the cache's settings: `fresh` within the TTL, `stale` past it but within
 * the stale window (served only when every target of a call is down), else `expired`. Pure.
 */
export function freshness(storedAt: number, now: number, ttlMs: number, staleMs: number): 'fresh' | 'stale' | 'expired' {
  const age = now - storedAt;
  if (age < ttlMs) return 'fresh';
  return age < ttlMs + staleMs ? 'stale' : 'expired';
}
