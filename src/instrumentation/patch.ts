import { context, createContextKey, diag } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { detectProvider, type ProviderInfo } from '../providers/detect';
import { observeApiPromise } from './api-promise';
import { Call, type Runtime } from './call';
import { operationForPath } from './operations';

/** The call whose HTTP attempts are running in this async context. */
const CALL_KEY = createContextKey('llm-governor.call');
const PATCHED = Symbol.for('llm-governor.patched');

type AnyFn = (...args: any[]) => any;
interface ClientLike {
  baseURL?: string;
}

/**
 * The seam between the SDK and the call lifecycle. Two methods of the client class are wrapped:
 *
 * - `post(path, opts)`: every billable operation (chat, responses, embeddings, images, audio,
 *   moderations, legacy completions) and every helper built on them goes through it. The SDK
 *   accepts a *promise* of options there, so the `before` step runs inside the SDK's own
 *   APIPromise, which is returned to the app unchanged.
 * - `fetchWithTimeout(...)`: one call per HTTP attempt, so the SDK's retries become span events.
 */
export function patchClientClass(exports: any, getRuntime: () => Runtime | undefined, providerOverrides: () => Record<string, any>): boolean {
  const OpenAI = pickClientClass(exports);
  if (!OpenAI) return false;
  const AzureOpenAI = typeof exports?.AzureOpenAI === 'function' ? exports.AzureOpenAI : undefined;
  return patchClientMethods(OpenAI.prototype, getRuntime, providerOverrides, AzureOpenAI);
}

/**
 * Wraps `post` and `fetchWithTimeout` on a target: a client class's prototype (the preload), or
 * one client instance (`wrap(client)`).
 */
export function patchClientMethods(
  target: object,
  getRuntime: () => Runtime | undefined,
  providerOverrides: () => Record<string, any>,
  AzureOpenAI?: new (...a: any[]) => any,
): boolean {
  const proto = target as Record<string | symbol, any>;
  if (Object.prototype.hasOwnProperty.call(proto, PATCHED)) return true;
  const originalPost: AnyFn = proto.post;
  const originalFetch: AnyFn | undefined = proto.fetchWithTimeout;
  if (typeof originalPost !== 'function') return false;

  const providers = new WeakMap<object, ProviderInfo>();
  const providerOf = (client: ClientLike): ProviderInfo => {
    let info = providers.get(client);
    if (!info) {
      info = detectProvider({
        baseURL: String(client.baseURL ?? ''),
        isAzureClient: (AzureOpenAI && client instanceof AzureOpenAI) || client?.constructor?.name === 'AzureOpenAI',
        overrides: providerOverrides(),
        xaiEndpoint: process.env.XAI_API_ENDPOINT,
      });
      providers.set(client, info);
    }
    return info;
  };

  proto.post = function post(this: ClientLike, path: string, opts: unknown) {
    const rt = getRuntime();
    const op = rt && operationForPath(path);
    const parent = context.active();
    if (!op || isTracingSuppressed(parent)) return originalPost.call(this, path, opts);
    let call: Call;
    try {
      call = new Call(rt, op, providerOf(this), syncBody(opts), parent, this);
    } catch (err) {
      diag.error('llm-governor: could not start a call record; sending uninstrumented', err);
      return originalPost.call(this, path, opts);
    }
    const sendOptions = call.before(opts as { body?: unknown });
    let promise: unknown;
    try {
      promise = context.with(call.ctx.setValue(CALL_KEY, call), () => originalPost.call(this, path, sendOptions));
    } catch (err) {
      call.failed(err);
      throw err;
    }
    return observeApiPromise(promise, call);
  };

  if (typeof originalFetch === 'function') {
    proto.fetchWithTimeout = function fetchWithTimeout(this: unknown, ...args: unknown[]) {
      const call = context.active().getValue(CALL_KEY) as Call | undefined;
      if (!call) return originalFetch.apply(this, args);
      call.attemptStarted();
      const response = originalFetch.apply(this, args) as Promise<{ status?: number }>;
      response.then(
        (r) => call.attemptFinished(r?.status),
        (err) => call.attemptFinished(undefined, err),
      );
      return response;
    };
  }

  Object.defineProperty(proto, PATCHED, { value: { post: originalPost, fetchWithTimeout: originalFetch }, configurable: true });
  return true;
}

export function unpatchClientClass(exports: any): void {
  const OpenAI = pickClientClass(exports);
  const proto = OpenAI?.prototype as Record<string | symbol, any> | undefined;
  const originals = proto?.[PATCHED];
  if (!proto || !originals) return;
  // The originals may have been inherited (openai 4 defines them on APIClient): remove our own props.
  delete proto.post;
  delete proto.fetchWithTimeout;
  if (proto.post !== originals.post) proto.post = originals.post;
  if (originals.fetchWithTimeout && proto.fetchWithTimeout !== originals.fetchWithTimeout) proto.fetchWithTimeout = originals.fetchWithTimeout;
  delete proto[PATCHED];
}

/** The client class in any module shape: CJS v4 (`module.exports = OpenAI`), v5+ and ESM namespaces. */
function pickClientClass(exports: any): (new (...a: any[]) => any) | undefined {
  for (const c of [exports?.OpenAI, exports?.default, exports]) {
    if (typeof c === 'function' && c.prototype && typeof c.prototype.post === 'function') return c;
  }
  return undefined;
}

/** The body when the options are already at hand (multipart options come as a promise). */
function syncBody(opts: unknown): Record<string, unknown> | undefined {
  if (!opts || typeof opts !== 'object' || typeof (opts as PromiseLike<unknown>).then === 'function') return undefined;
  const body = (opts as { body?: unknown }).body;
  return body && typeof body === 'object' ? (body as Record<string, unknown>) : undefined;
}
