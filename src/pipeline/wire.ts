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

/** Our refusals, by the answer that stands for each (a provider cannot forge one with a header). */
const REFUSALS = new WeakMap<Response, Refusal>();

/** A refusal as an HTTP answer: the SDK's own error path builds the app's error from it, never retrying. */
export function refusalResponse(r: Refusal): Response {
  const body = JSON.stringify({ error: { message: r.message, type: r.code, code: r.code, param: null, details: r.details } });
  const response = new Response(body, {
    status: r.status,
    headers: { 'content-type': 'application/json', [GOVERNOR_HEADER]: r.code, 'x-should-retry': 'false' },
  });
  REFUSALS.set(response, r);
  return response;
}

/** The refusal of ours an answer stands for, if it is one (nothing was sent). */
export function refusalIn(response: Response): Refusal | undefined {
  return REFUSALS.get(response);
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

/** A cached answer, replayed (`stale`: past its TTL, in an outage): nothing is sent upstream. */
export function replayResponse(entry: CachedResponse, mark: 'hit' | 'stale' = 'hit'): Response {
  return new Response(entry.body, { status: entry.status, headers: { ...entry.headers, [GOVERNOR_HEADER + '-cache']: mark } });
}

const READ_WHOLE = Symbol('llm-governor.readWhole');

/** A body we read whole: its text, the value parsed from it, and the copy made if one is needed. */
interface ReadBody {
  text: string;
  parsed: unknown;
  used: boolean;
  copy?: Response;
  original: Response;
}

type ReadWhole = Response & { [READ_WHOLE]: ReadBody };

/** A full copy of the answer, made on first use by what needs a real body (stream, clone, blob, …). */
function fullCopy(b: ReadBody): Response {
  if (!b.copy) {
    const o = b.original;
    b.copy = new Response(b.text, { status: o.status, statusText: o.statusText, headers: o.headers });
    if (b.used) void b.copy.text().catch(() => undefined); // read already: the copy says so too
  }
  return b.copy;
}

function readOnce<T>(b: ReadBody, get: () => T): Promise<T> {
  if (b.copy) return b.copy.text().then(get);
  if (b.used) return Promise.reject(new TypeError('Body is unusable: Body has already been read'));
  b.used = true;
  try {
    return Promise.resolve(get());
  } catch (err) {
    return Promise.reject(err);
  }
}

const readWholeProtos = new WeakMap<object, object>();

/** The prototype for read-whole answers of one Response class: its own, with the body served from text. */
function readWholeProto(base: object): object {
  const known = readWholeProtos.get(base);
  if (known) return known;
  const state = (r: unknown) => (r as ReadWhole)[READ_WHOLE];
  const delegate = (name: 'arrayBuffer' | 'blob' | 'bytes' | 'formData' | 'clone') => ({
    value(this: unknown) {
      const copy = fullCopy(state(this)) as unknown as Record<string, () => unknown>;
      return copy[name]!.call(copy);
    },
    configurable: true,
    writable: true,
  });
  const proto: object = Object.create(base, {
    bodyUsed: {
      get(this: unknown) {
        const b = state(this);
        return b.copy ? b.copy.bodyUsed : b.used;
      },
      configurable: true,
    },
    body: {
      get(this: unknown) {
        return fullCopy(state(this)).body;
      },
      configurable: true,
    },
    text: {
      value(this: unknown) {
        const b = state(this);
        return readOnce(b, () => b.text);
      },
      configurable: true,
      writable: true,
    },
    json: {
      value(this: unknown) {
        const b = state(this);
        return readOnce(b, () => {
          if (b.parsed === undefined) return JSON.parse(b.text);
          const v = b.parsed;
          b.parsed = undefined; // handed over once: a second parse is a fresh value
          return v;
        });
      },
      configurable: true,
      writable: true,
    },
    arrayBuffer: delegate('arrayBuffer'),
    blob: delegate('blob'),
    bytes: delegate('bytes'),
    formData: delegate('formData'),
    clone: delegate('clone'),
  });
  readWholeProtos.set(base, proto);
  return proto;
}

/**
 * The network's answer, its body already read as text (so that it could be checked, and cached),
 * made readable again. It stays the same object (its url, type, headers and redirect flag are the
 * network's, and `instanceof` holds); its body methods serve the text instead of the spent
 * stream. `text()` and `json()`, what the SDK reads, cost nothing: the first `json()` hands over
 * `parsed`, the value the check already made, so a body is parsed once. The rest (`body`,
 * `clone()`, `blob()`, …, which an app may use through `asResponse()`) is served by a full copy
 * made on first use.
 */
export function withBody(original: Response, text: string, parsed?: unknown): Response {
  const res = original as ReadWhole;
  Object.defineProperty(res, READ_WHOLE, { value: { text, parsed, used: false, original } satisfies ReadBody });
  Object.setPrototypeOf(res, readWholeProto(Object.getPrototypeOf(original)));
  return res;
}

/** Whether an answer's body was read whole by us (nothing left on the connection to free). */
export function isReadWhole(response: Response): boolean {
  return (response as Partial<ReadWhole>)[READ_WHOLE] !== undefined;
}

/** A JSON answer to a request that did not ask for a stream: read whole, checked, maybe cached. */
export function isJsonAnswer(response: Response): boolean {
  return (response.headers.get('content-type') ?? '').includes('application/json');
}

/** Reads a header from the SDK's header shapes: a `Headers` (openai 5+) or a plain record (openai 4). */
export function headerValue(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const h = headers as { get?: (n: string) => unknown } & Record<string, unknown>;
  if (typeof h.get === 'function') {
    const v = h.get(name);
    return typeof v === 'string' ? v : undefined;
  }
  // A plain object of headers: names in any case.
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(h)) if (k.toLowerCase() === lower && typeof v === 'string') return v;
  return undefined;
}

/** The app's abort (not a timeout of ours): never retried, never sent to a fallback. */
export function isAbort(signal: AbortSignal | null | undefined): boolean {
  return !!signal?.aborted;
}

const DELEGATE = Symbol('llm-governor.bodyDelegate');
const BODY_METHODS = ['arrayBuffer', 'blob', 'bytes', 'formData', 'json', 'text', 'clone', 'buffer', 'textConverted'] as const;
const delegatingProtos = new WeakMap<object, object>();

/** The prototype for answers of one Response class whose body is served by a delegate. */
function delegatingProto(base: object): object {
  const known = delegatingProtos.get(base);
  if (known) return known;
  const delegate = (r: unknown) => (r as { [DELEGATE]: Record<string, unknown> })[DELEGATE];
  const props: PropertyDescriptorMap = {
    body: {
      get: function (this: unknown) {
        return delegate(this).body;
      },
      configurable: true,
    },
    bodyUsed: {
      get: function (this: unknown) {
        return delegate(this).bodyUsed;
      },
      configurable: true,
    },
  };
  for (const name of BODY_METHODS) {
    if (typeof (base as Record<string, unknown>)[name] !== 'function') continue;
    props[name] = {
      value(this: unknown, ...args: unknown[]) {
        const d = delegate(this);
        return (d[name] as (...a: unknown[]) => unknown).apply(d, args);
      },
      configurable: true,
      writable: true,
    };
  }
  const proto = Object.create(base, props);
  delegatingProtos.set(base, proto);
  return proto;
}

/**
 * The network's answer with its body replaced by `body` (an observed copy of the same bytes):
 * the same object (url, headers, status, `instanceof`), its body methods served by an answer of
 * its own class built on `body`. Works for fetch's Response and openai 4's node-fetch one.
 */
export function delegateBody(original: Response, body: unknown): Response {
  const Ctor = original.constructor as new (body: unknown, init: ResponseInit & { url?: string }) => Response;
  const delegate = new Ctor(body, { status: original.status, statusText: original.statusText, headers: original.headers, url: original.url });
  Object.defineProperty(original, DELEGATE, { value: delegate });
  Object.setPrototypeOf(original, delegatingProto(Object.getPrototypeOf(original)));
  return original;
}
