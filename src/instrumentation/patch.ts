import { context, diag } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { detectProvider, type ProviderInfo } from '../providers/detect';
import { observeApiPromise } from './api-promise';
import { governorError, isGovernorErrorCode } from '../errors';
import type { ClientClasses } from '../guards/fallback';
import { Call, currentCall, runInCall, type Runtime, type SendRequest } from './call';
import { SdkAttempts } from './sdk-attempts';
import { operationForPath } from '../operations';
import { rememberSecret } from '../redaction';
import { isOwnedAttempt } from './sdk-request';
import { GOVERNOR_HEADER, headerValue } from '../pipeline/wire';

const PATCHED = Symbol.for('llm-governor.patched');

type AnyFn = (...args: any[]) => any;
interface ClientLike {
  baseURL?: string;
}

/**
 * The seam between the SDK and the call lifecycle. Methods of the client class are wrapped:
 *
 * - `post(path, opts)`: every billable operation (chat, responses, embeddings, images, audio,
 *   moderations, legacy completions) and every helper built on them goes through it. The SDK
 *   accepts a *promise* of options there, so the `before` step runs inside the SDK's own
 *   APIPromise, which is returned to the app unchanged.
 * - `fetchWithTimeout(...)`: the SDK's HTTP exchange, handed to the call's `send` step, which
 *   owns the attempts (retries, rate limit, breaker, fallback, cache).
 * - `buildRequest(options, ...)`: only watched, for the SDK's own options object of the call, from
 *   which our retries are built exactly as the SDK builds its own (see `sdk-request.ts`).
 * - `makeStatusError(...)`: turns a refusal of ours (an answer marked `x-llm-governor`) into our
 *   `APIError` subclass, through the SDK's own error path.
 */
export function patchClientClass(exports: any, getRuntime: () => Runtime | undefined, providerOverrides: () => Record<string, any>): boolean {
  const OpenAI = pickClientClass(exports);
  if (!OpenAI) return false;
  const AzureOpenAI = typeof exports?.AzureOpenAI === 'function' ? exports.AzureOpenAI : undefined;
  return patchClientMethods(OpenAI.prototype, getRuntime, providerOverrides, { OpenAI, AzureOpenAI });
}

/**
 * Wraps `post` and `fetchWithTimeout` on a target: a client class's prototype (the preload), or
 * one client instance (`wrap(client)`).
 */
export function patchClientMethods(target: object, getRuntime: () => Runtime | undefined, providerOverrides: () => Record<string, any>, classes?: ClientClasses): boolean {
  const proto = target as Record<string | symbol, any>;
  if (Object.hasOwn(proto, PATCHED)) return true;
  const AzureOpenAI = classes?.AzureOpenAI;
  const originalPost: AnyFn = proto.post;
  const originalFetch: AnyFn | undefined = proto.fetchWithTimeout;
  const originalStatusError: AnyFn | undefined = proto.makeStatusError;
  const originalBuildRequest: AnyFn | undefined = proto.buildRequest;
  if (typeof originalPost !== 'function') return false;

  const providers = new WeakMap<object, ProviderInfo>();
  const providerOf = (client: ClientLike): ProviderInfo => {
    let info = providers.get(client);
    if (!info) {
      rememberSecret((client as { apiKey?: unknown }).apiKey);
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
    let rt: Runtime | undefined;
    try {
      rt = getRuntime();
    } catch (err) {
      // Telemetry that cannot start never breaks the app's call: it goes out uninstrumented.
      diag.error('llm-governor: could not set up the call path; sending uninstrumented', err);
    }
    const op = rt && operationForPath(path);
    const parent = context.active();
    if (!rt || !op || isTracingSuppressed(parent)) return originalPost.call(this, path, opts);
    let call: Call;
    try {
      call = new Call(rt, op, providerOf(this), syncBody(opts), parent, new SdkAttempts(this, path, classes ?? classesOf(this)));
    } catch (err) {
      diag.error('llm-governor: could not start a call record; sending uninstrumented', err);
      return originalPost.call(this, path, opts);
    }
    const sendOptions = call.before(opts as { body?: unknown });
    let promise: unknown;
    try {
      promise = runInCall(call, () => originalPost.call(this, path, sendOptions));
    } catch (err) {
      call.failed(err);
      throw err;
    }
    return observeApiPromise(promise, call);
  };

  if (typeof originalFetch === 'function') {
    const fetchOnce: SendRequest['fetch'] = (client, url, init, ms, controller) => originalFetch.call(client, url, init, ms, controller);
    proto.fetchWithTimeout = function fetchWithTimeout(this: unknown, url: string, init: SendRequest['init'], ms: number, controller: AbortController) {
      // An attempt our send step built and sends itself (a retry, a backup): the network, as it is.
      if (isOwnedAttempt(init)) return originalFetch.call(this, url, init, ms, controller);
      const call = currentCall();
      if (!call) return originalFetch.call(this, url, init, ms, controller);
      return call.send({ url, init: init ?? {}, ms, controller, fetch: fetchOnce });
    };
  }

  if (typeof originalBuildRequest === 'function') {
    // The SDK's own options object of the call, for our retries to be built from (sdk-request.ts).
    proto.buildRequest = function buildRequest(this: unknown, options: unknown, props: unknown) {
      const call = currentCall();
      if (call?.adapter instanceof SdkAttempts && options && typeof options === 'object') call.adapter.capture(this, options as Record<string, unknown>);
      return originalBuildRequest.call(this, options, props);
    };
  }

  if (typeof originalStatusError === 'function') {
    proto.makeStatusError = function makeStatusError(this: unknown, status: number, error: any, message: unknown, headers: unknown) {
      const code = headerValue(headers, GOVERNOR_HEADER);
      if (isGovernorErrorCode(code)) {
        const body = error?.error ?? error;
        return governorError(this, code, status, String(body?.message ?? message ?? code), body?.details ?? {});
      }
      return originalStatusError.call(this, status, error, message, headers);
    };
  }

  Object.defineProperty(proto, PATCHED, {
    value: { post: originalPost, fetchWithTimeout: originalFetch, makeStatusError: originalStatusError, buildRequest: originalBuildRequest },
    configurable: true,
  });
  return true;
}

export function unpatchClientClass(exports: any): void {
  const OpenAI = pickClientClass(exports);
  const proto = OpenAI?.prototype as Record<string | symbol, any> | undefined;
  const originals = proto?.[PATCHED];
  if (!proto || !originals) return;
  // The originals may have been inherited (openai 4 defines them on APIClient): remove our own props.
  for (const name of ['post', 'fetchWithTimeout', 'makeStatusError', 'buildRequest'] as const) {
    delete proto[name];
    if (originals[name] && proto[name] !== originals[name]) proto[name] = originals[name];
  }
  delete proto[PATCHED];
}

/** The client class in any module shape: CJS v4 (`module.exports = OpenAI`), v5+ and ESM namespaces. */
function pickClientClass(exports: any): (new (...a: any[]) => any) | undefined {
  for (const c of [exports?.OpenAI, exports?.default, exports]) {
    if (typeof c === 'function' && c.prototype && typeof c.prototype.post === 'function') return c;
  }
  return undefined;
}

/** For `wrap(client)`: the SDK's base client class (backups are built with it). */
function classesOf(client: unknown): ClientClasses | undefined {
  let ctor = (client as { constructor?: any })?.constructor;
  for (let i = 0; ctor && i < 5; i++, ctor = Object.getPrototypeOf(ctor)) {
    if (ctor.name === 'OpenAI' && typeof ctor.prototype?.post === 'function') return { OpenAI: ctor };
  }
  return undefined;
}

/** The body when the options are already at hand (multipart options come as a promise). */
function syncBody(opts: unknown): Record<string, unknown> | undefined {
  if (!opts || typeof opts !== 'object' || typeof (opts as PromiseLike<unknown>).then === 'function') return undefined;
  const body = (opts as { body?: unknown }).body;
  return body && typeof body === 'object' ? (body as Record<string, unknown>) : undefined;
}
