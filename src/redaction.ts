/**
 * The one redaction applied to every string we emit that could carry a credential: span
 * exception messages and events, diag lines, audit events' free text, CLI output. Two layers:
 *
 * - the exact credentials this process knows (each client's API key, Azure AD and other bearer
 *   tokens as our attempts send them, the Redis password, syslog credentials), registered with
 *   `rememberSecret` as they are met: an echo of one is caught whatever its shape;
 * - key-shaped patterns: `sk-…` / `xai-…` keys, JWTs, 32-hex Azure keys, `Bearer …`,
 *   `Authorization` / `api-key` headers, `api-key=` / `key=` / `token=` / `password=` query values,
 *   and the password of a URL.
 *
 * Pure apart from the registry of known secrets, which is bounded.
 */

const REDACTED = '[REDACTED]';

/** The shortest exact secret worth matching (shorter strings would hide ordinary words). */
const MIN_SECRET = 8;
const MAX_SECRETS = 256;
const known = new Set<string>();
/** Longest first, so that a secret containing another is replaced whole. */
let ordered: string[] = [];

/** Registers a credential the process holds, so that an echo of it anywhere is redacted. */
export function rememberSecret(value: unknown): void {
  if (typeof value !== 'string') return;
  const v = value.trim();
  if (v.length < MIN_SECRET || known.has(v)) return;
  if (known.size >= MAX_SECRETS) {
    const oldest = known.values().next().value as string;
    known.delete(oldest);
  }
  known.add(v);
  ordered = [...known].sort((a, b) => b.length - a.length);
}

/** The credential of an `Authorization` / `api-key` header value (`Bearer x` → `x`). */
export function rememberHeaderSecret(value: unknown): void {
  if (typeof value !== 'string') return;
  rememberSecret(value.replace(/^\s*(Bearer|Basic)\s+/i, ''));
}

/** The credentials a request carries (`Authorization`, `api-key`), from a `Headers` or a record. */
export function rememberRequestCredentials(headers: unknown): void {
  if (!headers || typeof headers !== 'object') return;
  const h = headers as { get?: (n: string) => string | null } & Record<string, unknown>;
  for (const name of ['authorization', 'api-key']) {
    const v = typeof h.get === 'function' ? h.get(name) : (h[name] ?? h[name === 'authorization' ? 'Authorization' : name]);
    if (typeof v === 'string') rememberHeaderSecret(v);
  }
}

/** The secrets inside a URL: its password and its query values. */
export function rememberUrlSecrets(url: string | undefined): void {
  if (!url) return;
  try {
    const u = new URL(url);
    if (u.password) rememberSecret(decodeURIComponent(u.password));
    for (const v of u.searchParams.values()) rememberSecret(v);
  } catch {
    /* not a URL: nothing to learn */
  }
}

const PATTERNS: Array<[RegExp, (m: string, ...g: string[]) => string]> = [
  // Header lines and JSON-ish pairs: keep the name, drop the value.
  [
    /\b(authorization|proxy-authorization|api[-_]?key|x-api-key|ocp-apim-subscription-key)(\s*["']?\s*[:=]\s*["']?)(?:(?:Bearer|Basic)\s+)?[^\s"',;}&]+/gi,
    (_m, name, sep) => `${name}${sep}${REDACTED}`,
  ],
  // Query values.
  [/([?&;\s](?:api[-_]?key|key|token|access_token|id_token|refresh_token|password|passwd|pwd|secret|sig|signature|code)=)[^&\s"',;#]+/gi, (_m, head) => `${head}${REDACTED}`],
  // URL passwords: scheme://user:password@host (the last @ ends it).
  [/([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)[^\s/]*@/gi, (_m, head) => `${head}${REDACTED}@`],
  [/\bBearer\s+[^\s"',;]+/gi, () => `Bearer ${REDACTED}`],
  [/\b(?:sk|xai|sess|pk|rk)-[A-Za-z0-9_-]{6,}/g, () => REDACTED],
  // JWTs (Azure AD, workload identity).
  [/\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, () => REDACTED],
  // Azure OpenAI keys: 32 hex characters near a word for a key (a bare 32-hex is a trace id), or
  // the newer 84-character base62 ones.
  [/(\b(?:key|secret|token|credential|password)s?\b[^0-9a-fA-F\n]{0,40})[0-9a-fA-F]{32}\b/gi, (_m, head) => `${head}${REDACTED}`],
  [/\b[A-Za-z0-9]{84}\b/g, () => REDACTED],
];

/** Cheap first look: text none of the patterns could match is left as it is. */
const SUSPECT = /bearer|(?:sk|xai|sess|pk|rk)-|api[-_]?key|authorization|subscription-key|eyJ|[=@]|[0-9a-fA-F]{32}|[A-Za-z0-9]{84}/i;

/** `text` with every credential this process knows, and anything key-shaped, replaced. */
export function redact(text: string): string {
  let out = text;
  for (const secret of ordered) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  if (!SUSPECT.test(out)) return out;
  for (const [re, replace] of PATTERNS) out = out.replace(re, replace as (m: string, ...a: unknown[]) => string);
  return out;
}

/**
 * A URL for display: the password (in any form ioredis and others accept: `user:pass@`,
 * `:pass@`, `?password=`), and every query value, masked. Text that is not a URL is redacted.
 */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const k of [...u.searchParams.keys()]) u.searchParams.set(k, '***');
    return decodeURIComponent(u.toString());
  } catch {
    return redact(url);
  }
}

/** For tests: forget every registered secret. */
export function forgetSecrets(): void {
  known.clear();
  ordered = [];
}
