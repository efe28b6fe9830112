/**
 * The errors llm-governor raises when it enforces a limit. Each one is a real subclass of the
 * app's own `OpenAI.APIError` (found from the client, since `require('openai')` and
 * `import 'openai'` are two copies of the SDK with two `APIError` classes), so the app's existing
 * `catch (e) { if (e instanceof OpenAI.APIError) … }` handles it, with `status` and `code`.
 *
 * The classes exported here (`BudgetExceededError`, …) match any of those subclasses with
 * `instanceof`, whichever copy of the SDK raised them.
 */

export type GovernorErrorCode = 'budget_exceeded' | 'budget_unavailable' | 'circuit_open' | 'rate_limited' | 'content_blocked';

const CODE = Symbol.for('llm-governor.error-code');

export interface BudgetExceededDetails {
  budget: string;
  /** The per-tenant/user/feature value, for `per:` budgets. */
  key?: string;
  limitUsd: number;
  spentUsd: number;
  reservedUsd: number;
  /** What this call would have needed, worst case. */
  requestedUsd: number;
  /** When the window resets (ISO 8601). */
  resetsAt: string;
}

type ApiErrorCtor = new (status: number | undefined, error: object | undefined, message: string | undefined, headers: unknown) => Error;

const subclasses = new WeakMap<object, Map<GovernorErrorCode, ApiErrorCtor>>();

/** The app's `APIError` class, from a client instance (`OpenAI.APIError` is a static). */
function apiErrorClassOf(client: unknown): ApiErrorCtor | undefined {
  let ctor = (client as { constructor?: unknown })?.constructor as { APIError?: unknown } | undefined;
  for (let i = 0; ctor && i < 5; i++) {
    if (typeof ctor.APIError === 'function') return ctor.APIError as ApiErrorCtor;
    ctor = Object.getPrototypeOf(ctor);
  }
  return undefined;
}

/**
 * A failure that is not yet an SDK error (a stream cut off mid-body gives undici's
 * `TypeError: terminated`), as the SDK's own `APIConnectionError`, with the original as `cause`:
 * so every error the app sees from a call is an `APIError`. SDK errors and aborts pass unchanged.
 */
export function asSdkError(client: unknown, error: unknown): unknown {
  const ctor = (client as { constructor?: Record<string, any> })?.constructor;
  let c: Record<string, any> | undefined = ctor;
  for (let i = 0; c && i < 5; i++, c = Object.getPrototypeOf(c)) {
    const { OpenAIError, APIConnectionError } = c;
    if (typeof OpenAIError !== 'function' || typeof APIConnectionError !== 'function') continue;
    if (error instanceof OpenAIError || (error as { name?: string })?.name === 'AbortError') return error;
    const message = `Connection error: the response ended before it was complete (${(error as Error)?.message ?? String(error)})`;
    return new APIConnectionError({ message, cause: error instanceof Error ? error : undefined });
  }
  return error;
}

const NAMES: Record<GovernorErrorCode, string> = {
  budget_exceeded: 'BudgetExceededError',
  budget_unavailable: 'BudgetUnavailableError',
  circuit_open: 'CircuitOpenError',
  rate_limited: 'RateLimitExceededError',
  content_blocked: 'ContentBlockedError',
};

/** Is this one of our codes (from the `x-llm-governor` header of a refusal made at send time)? */
export function isGovernorErrorCode(value: unknown): value is GovernorErrorCode {
  return typeof value === 'string' && Object.hasOwn(NAMES, value);
}

function subclassFor(base: ApiErrorCtor | undefined, code: GovernorErrorCode): ApiErrorCtor {
  const key = (base ?? Error) as object;
  let byCode = subclasses.get(key);
  if (!byCode) subclasses.set(key, (byCode = new Map()));
  let cls = byCode.get(code);
  if (!cls) {
    const Base = (base ?? (FallbackApiError as unknown as ApiErrorCtor)) as ApiErrorCtor;
    const named = { [NAMES[code]]: class extends Base {} }[NAMES[code]];
    byCode.set(code, (cls = named));
  }
  return cls;
}

/** Used only when the SDK's APIError cannot be found (never with a real openai client). */
class FallbackApiError extends Error {
  constructor(
    readonly status: number | undefined,
    readonly error: { code?: string } | undefined,
    message: string | undefined,
    readonly headers: unknown,
  ) {
    super(message);
    (this as { code?: string }).code = error?.code;
  }
}

/** Builds the error as the SDK would for an HTTP error: `status`, `error`, `code`, `type`, message. */
/**
 * LangChain's mark of an error its retry loop must not retry (`getRetryable` in
 * `@langchain/core/errors`; a global symbol, so every copy of the package reads it). LangChain
 * runs the openai client with `maxRetries: 0` and retries in its own loop, by status: without the
 * mark it would retry our refusals (a 503 for an open breaker or an unreachable budget store),
 * which `x-should-retry: false` keeps only the SDK's own loop from retrying.
 */
const LANGCHAIN_RETRYABLE = Symbol.for('langchain.errors.retryable');

export function governorError(client: unknown, code: GovernorErrorCode, status: number, message: string, details: object): Error & { status: number; code: string; details: object } {
  const Cls = subclassFor(apiErrorClassOf(client), code);
  const body = { message, type: code, code, param: null, details };
  const headers = typeof Headers === 'function' ? new Headers({ 'x-llm-governor': code }) : {};
  const err = new Cls(status, body, message, headers) as Error & { status: number; code: string; details: object; llmGovernorCode: string };
  // The SDK's constructor prefixes the status to the message; keep ours readable and exact.
  Object.defineProperty(err, 'message', { value: `${status} ${message}`, configurable: true, writable: true });
  err.status = status;
  err.code = code;
  err.details = details;
  Object.defineProperty(err, 'llmGovernorCode', { value: code });
  Object.defineProperty(err, CODE, { value: code });
  Object.defineProperty(err, LANGCHAIN_RETRYABLE, { value: false, configurable: true });
  return err;
}

function matcher(code: GovernorErrorCode) {
  return (value: unknown) => !!value && typeof value === 'object' && (value as Record<symbol, unknown>)[CODE] === code;
}

/** A budget would be exceeded: status 429, code `budget_exceeded`; nothing was sent upstream. */
export class BudgetExceededError extends Error {
  declare readonly status: 429;
  declare readonly code: 'budget_exceeded';
  declare readonly details: BudgetExceededDetails;
  static override [Symbol.hasInstance] = matcher('budget_exceeded');
}

/** The budget store is unreachable and the config says to fail closed: status 503, code `budget_unavailable`. */
export class BudgetUnavailableError extends Error {
  declare readonly status: 503;
  declare readonly code: 'budget_unavailable';
  static override [Symbol.hasInstance] = matcher('budget_unavailable');
}

/** The provider's circuit breaker is open: status 503, code `circuit_open`; nothing was sent. */
export class CircuitOpenError extends Error {
  declare readonly status: 503;
  declare readonly code: 'circuit_open';
  declare readonly details: { breaker: string; nextTrialAt: string };
  static override [Symbol.hasInstance] = matcher('circuit_open');
}

/** The client-side rate limit held the call longer than its maximum wait: status 429, code `rate_limited`; nothing was sent. */
export class RateLimitExceededError extends Error {
  declare readonly status: 429;
  declare readonly code: 'rate_limited';
  declare readonly details: { limiter: string; waitedMs: number; retryAfterMs?: number };
  static override [Symbol.hasInstance] = matcher('rate_limited');
}

/** The moderation guard flagged the content: status 400, code `content_blocked`; nothing was sent. */
export class ContentBlockedError extends Error {
  declare readonly status: 400;
  declare readonly code: 'content_blocked';
  declare readonly details: { source: 'moderation' | 'rule'; categories: string[] };
  static override [Symbol.hasInstance] = matcher('content_blocked');
}
