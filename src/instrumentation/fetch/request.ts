import type { Body } from '../../operations';
import type { ProviderRequest } from './endpoints';

/** A provider request as the client handed it to `fetch`, taken apart once. */
export interface WireRequest {
  readonly url: string;
  /** What is sent: the client's own init (a shallow copy), its fields as `fetch` took them. */
  readonly init: RequestInit;
  /** The request's headers, to read from (never sent). */
  readonly headers: Headers;
  /** The body as a JSON object, when it is one (else the admission sees a body it cannot copy). */
  body?: Body;
  /** The call's controller: the client's own signal reaches it. */
  readonly controller: AbortController;
}

/** `fetch(input, init)` as one URL and one init; a `Request` is read into them (its body as it came). */
export async function requestOf(input: string | URL | Request, init: RequestInit | undefined): Promise<WireRequest> {
  if (!(input instanceof Request)) {
    const copy: RequestInit = { ...init };
    return { url: String(input), init: copy, headers: new Headers(copy.headers), controller: new AbortController() };
  }
  const r = init ? new Request(input, init) : input;
  const json = /\bjson\b/i.test(r.headers.get('content-type') ?? '');
  const body = r.body ? (json ? await r.text() : new Uint8Array(await r.arrayBuffer())) : undefined;
  const copy: RequestInit = { method: r.method, headers: r.headers, body, signal: r.signal, redirect: r.redirect };
  return { url: r.url, init: copy, headers: r.headers, controller: new AbortController() };
}

const decoder = new TextDecoder();

/** The body as a plain JSON object, or undefined (not JSON, not an object, a form, a stream). */
export function jsonObjectOf(body: unknown): Body | undefined {
  let text: string | undefined;
  if (typeof body === 'string') text = body;
  else if (body instanceof Uint8Array) text = decoder.decode(body);
  else if (body instanceof ArrayBuffer) text = decoder.decode(new Uint8Array(body));
  if (text === undefined || text.trimStart()[0] !== '{') return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Body) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The body the call's record starts from, and the operation path its cache key is made with. An
 * Azure deployment URL needs no `model` in the body: then the deployment is the call's model (its
 * span, price, budgets, breaker) and is kept in the path, so that two deployments asked the same
 * never share a cached answer. What is sent is still the client's own body.
 */
export function namedModel(match: Pick<ProviderRequest, 'path' | 'deployment'>, body: Body | undefined): { body: Body | undefined; path: string } {
  const deployment = typeof body?.model === 'string' ? undefined : match.deployment;
  if (!deployment) return { body, path: match.path };
  return { body: { ...body, model: deployment }, path: `/deployments/${encodeURIComponent(deployment)}${match.path}` };
}

/** The init with a changed JSON body: written again, its old length dropped. */
export function withJsonBody(init: RequestInit, body: unknown): RequestInit {
  const headers = new Headers(init.headers);
  headers.delete('content-length');
  return { ...init, headers, body: JSON.stringify(body) };
}

/** Forwards the client's abort (with its reason) to the call's controller; returns the unlinking. */
export function linkSignal(signal: AbortSignal | null | undefined, controller: AbortController): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    controller.abort(signal.reason);
    return () => {};
  }
  const forward = () => controller.abort(signal.reason);
  signal.addEventListener('abort', forward, { once: true });
  return () => signal.removeEventListener('abort', forward);
}

/** A provider's error answer (4xx, 5xx), as the call's failure: the client reads the answer itself. */
export class ProviderAnswerError extends Error {
  /** `error.type` on the span and metrics: the status code, as the conventions advise for HTTP. */
  readonly errorType: string;

  constructor(readonly status: number) {
    super(`the provider answered ${status}`);
    this.errorType = String(status);
  }
}
