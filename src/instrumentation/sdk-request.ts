/**
 * One attempt of a request, built and sent the way the openai SDK's own retry loop builds and
 * sends it, with the SDK's own methods on the client (every major has them):
 *
 *   prepareOptions(options)           credentials asked for again: an `apiKey` function, Azure's
 *                                     `azureADTokenProvider` (openai 4 sets it as a header here)
 *   buildRequest(options, {retryCount})  URL, body and headers, `x-stainless-retry-count`, the
 *                                     idempotency key kept on `options`
 *   prepareRequest(req, {url, options})  and the client's auth provider's own (workload identity)
 *   fetchWithAuth(...)                openai 6+: the bearer token of workload identity auth, then
 *                                     fetchWithTimeout
 *
 * `options` must be the SDK's own options object of the call (captured from its first
 * `buildRequest`, see `patch.ts`), so that what the SDK keeps on it (the idempotency key, Azure's
 * deployment path) is kept across attempts as the SDK keeps it.
 */

/** Marks an init whose attempt the send step already owns: the patched fetchWithTimeout passes it straight through. */
const OWNED_ATTEMPT = Symbol('llm-governor.ownedAttempt');

/** A request as the SDK's fetchWithTimeout takes it. */
export interface BuiltRequest {
  url: string;
  init: RequestInit & { headers?: unknown; signal?: AbortSignal | null };
}

type SdkClient = {
  prepareOptions?: (options: object) => Promise<void> | void;
  buildRequest: (options: object, props: { retryCount: number }) => Promise<{ req: BuiltRequest['init']; url: string; timeout?: number }> | { req: BuiltRequest['init']; url: string };
  prepareRequest?: (req: object, ctx: { url: string; options: object }) => Promise<void> | void;
  _provider?: { prepareRequest?: (req: object, ctx: { url: string; options: object; timeout?: number }) => Promise<void> | void };
  fetchWithAuth?: (url: string, init: object, ms: number, controller: AbortController, security?: object) => Promise<Response>;
};

/** Builds attempt `retryCount` (0 for the first) of `options` on `client`. */
export async function buildAttempt(client: unknown, options: Record<string, unknown>, retryCount: number): Promise<BuiltRequest> {
  const c = client as SdkClient;
  await c.prepareOptions?.(options);
  const { req, url, ...rest } = await c.buildRequest(options, { retryCount });
  const timeout = (rest as { timeout?: number }).timeout;
  await c.prepareRequest?.(req, { url, options });
  await c._provider?.prepareRequest?.(req, { url, options, timeout });
  Object.defineProperty(req, OWNED_ATTEMPT, { value: options }); // not enumerable: never copied into fetch's options
  return { url: String(url), init: req };
}

/**
 * Sends an attempt built by `buildAttempt`: through `fetchWithAuth` where the SDK has it (its
 * workload identity token is set there), else straight through the SDK's fetchWithTimeout.
 */
export function sendAttempt(
  client: unknown,
  built: BuiltRequest,
  ms: number,
  controller: AbortController,
  fetchOnce: (client: unknown, url: string, init: RequestInit, ms: number, controller: AbortController) => Promise<Response>,
): Promise<Response> {
  const c = client as SdkClient;
  const options = (built.init as Record<symbol, unknown>)[OWNED_ATTEMPT] as { __security?: object } | undefined;
  if (options && typeof c.fetchWithAuth === 'function') return c.fetchWithAuth(built.url, built.init, ms, controller, options.__security ?? { bearerAuth: true });
  return fetchOnce(client, built.url, built.init, ms, controller);
}

/** True for an init built by `buildAttempt`: its attempt is already under way in the send step. */
export function isOwnedAttempt(init: unknown): boolean {
  return !!init && typeof init === 'object' && (init as Record<symbol, unknown>)[OWNED_ATTEMPT] !== undefined;
}

/** A fresh options object for a request the SDK never made (a backup's), kept for all its attempts. */
export function backupOptions(path: string, body: Record<string, unknown>, signal: AbortSignal | null | undefined): Record<string, unknown> {
  return { method: 'post', path, body, maxRetries: 0, ...(signal ? { signal } : {}) };
}
