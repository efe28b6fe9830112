import { context, diag, type Context } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { governorError } from '../../errors';
import { refusalIn, refusalOf } from '../../pipeline/wire';
import { detectProvider, type ProviderInfo } from '../../providers/detect';
import type { ProviderName } from '../../semconv';
import { Call, currentCall, runInCall, type Runtime } from '../call';
import { FetchAttempts, sendWith } from './attempts';
import { clientOf, refusalFor } from './clients';
import { endpointsFrom, providerRequest, type Endpoints, type ProviderRequest } from './endpoints';
import { watchUngoverned } from './ungoverned';
import { jsonObjectOf, linkSignal, namedModel, ProviderAnswerError, requestOf, withJsonBody, type WireRequest } from './request';

/**
 * The wire entry: the process's global `fetch`, wrapped before the app loads, for the clients
 * that never pass through the openai SDK's `require` hook (the AI SDK, a bundled `openai`, a
 * hand-written `fetch`). A request to a provider endpoint (`endpoints.ts`) becomes a call of the
 * same lifecycle as the SDK's: the admission steps, the send layers, the answer observed as the
 * client reads it. Every other request passes through untouched, at the cost of a host check; so
 * does a request the SDK adapter already governs (its transport ends here too).
 *
 * The client keeps its own retry loop: each request it sends is one call. A refusal of ours is an
 * answer in the provider's error format that the client raises at once (`clients.ts`).
 */

const ORIGINAL = Symbol.for('llm-governor.fetch.original');

export interface FetchEntryOptions {
  getRuntime(): Runtime | undefined;
  /** The config's `provider_overrides`: hosts and base URLs, and the provider each is. */
  overrides(): Readonly<Record<string, ProviderName>>;
}

/** Wraps the global `fetch` once per process; returns false where there is none. */
export function installFetchEntry(options: FetchEntryOptions): boolean {
  const g = globalThis as { fetch?: typeof fetch & { [ORIGINAL]?: typeof fetch } };
  if (typeof g.fetch !== 'function') return false;
  if (g.fetch[ORIGINAL]) return true;
  const endpoints = endpointsFrom(process.env, options.overrides());
  const entry = new FetchEntry(g.fetch, endpoints, options);
  watchUngoverned(endpoints, (client, host) => options.getRuntime()?.metrics.ungoverned(client, host));
  const governed = function fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    return entry.fetch(input, init);
  };
  Object.defineProperty(governed, ORIGINAL, { value: g.fetch });
  g.fetch = governed as typeof fetch;
  return true;
}

class FetchEntry {
  private readonly providers = new Map<string, ProviderInfo>();

  constructor(
    private readonly original: typeof fetch,
    private readonly endpoints: Endpoints,
    private readonly options: FetchEntryOptions,
  ) {}

  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    let match: ProviderRequest | undefined;
    let rt: Runtime | undefined;
    try {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      match = providerRequest(url, init?.method ?? (input instanceof Request ? input.method : 'GET'), this.endpoints);
      // The SDK adapter's own send (its transport is this fetch too): governed there already.
      if (match && !currentCall() && !isTracingSuppressed(context.active())) rt = this.options.getRuntime();
    } catch (err) {
      diag.error('llm-governor: could not look at a fetch request; sending it uninstrumented', err);
      rt = undefined;
    }
    if (!match || !rt) return this.original.call(globalThis, input, init);
    return this.govern(rt, match, input, init, context.active());
  }

  private async govern(rt: Runtime, match: ProviderRequest, input: string | URL | Request, init: RequestInit | undefined, parent: Context): Promise<Response> {
    let req: WireRequest;
    let call: Call;
    try {
      req = await requestOf(input, init);
      const body = jsonObjectOf(req.init.body);
      const named = namedModel(match, body);
      const attempts = new FetchAttempts(named.path, match.path, match.baseURL, (u, i, ctx) => this.moderation(u, i, ctx));
      call = new Call(rt, match.op, this.providerOf(match, rt), named.body, parent, attempts);
      req.body = body;
    } catch (err) {
      diag.error('llm-governor: could not start a call record for a fetch request; sending it uninstrumented', err);
      return this.original.call(globalThis, input, init);
    }
    return runInCall(call, () => this.run(call, req));
  }

  /** One call: admitted, sent down the send layers, its answer observed as the client reads it. */
  private async run(call: Call, req: WireRequest): Promise<Response> {
    const client = clientOf(req.headers.get('user-agent'));
    const unlink = linkSignal(req.init.signal, req.controller);
    call.onFinish(unlink);
    let opts: { body?: unknown; timeout?: number };
    try {
      opts = await call.before({ body: req.body ?? req.init.body, headers: req.init.headers });
    } catch (err) {
      call.failed(err);
      const refusal = refusalOf(err);
      if (refusal) return refusalFor(refusal, client);
      throw err;
    }
    const init = req.body && opts.body !== req.body ? withJsonBody(req.init, opts.body) : req.init;
    let response: Response;
    try {
      response = await call.send({ url: req.url, init, ms: opts.timeout ?? Infinity, controller: req.controller, fetch: sendWith(this.original) });
    } catch (err) {
      call.failed(err);
      throw err;
    }
    const refusal = refusalIn(response);
    if (refusal) {
      call.failed(governorError(undefined, refusal.code, refusal.status, refusal.message, refusal.details));
      return refusalFor(refusal, client);
    }
    if (!response.ok) {
      call.failed(new ProviderAnswerError(response.status));
      return response;
    }
    return call.tookRaw(response);
  }

  /** A moderation request of a call: a call of its own, a child of `ctx`. */
  private moderation(url: string, init: RequestInit, ctx: Context): Promise<Response> {
    const rt = this.options.getRuntime();
    const match = providerRequest(url, 'POST', this.endpoints);
    if (!rt || !match) return this.original.call(globalThis, url, init);
    return context.with(ctx, () => this.govern(rt, match, url, init, ctx));
  }

  private providerOf(match: ProviderRequest, rt: Runtime): ProviderInfo {
    let info = this.providers.get(match.baseURL);
    if (!info) {
      const overrides: Record<string, ProviderName> = { ...rt.config.provider_overrides };
      overrides[match.baseURL] ??= match.provider;
      info = detectProvider({ baseURL: match.baseURL, isAzureClient: false, overrides, xaiEndpoint: process.env.XAI_API_ENDPOINT });
      if (this.providers.size >= 256) this.providers.clear();
      this.providers.set(match.baseURL, info);
    }
    return info;
  }
}
