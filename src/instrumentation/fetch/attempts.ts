import type { Context } from '@opentelemetry/api';
import type { BuiltAttempt } from '../../pipeline/send-layer';
import type { CallAdapter, SendRequest } from '../call-adapter';

/** What sends a moderation request for a call (the wire entry, as a child call of `ctx`). */
export type ModerationSend = (url: string, init: RequestInit, ctx: Context) => Promise<Response>;

/**
 * The process's `fetch` as a way into the call lifecycle: each request the client sends is one
 * call, sent once, as the client built it (the client keeps its own retry loop: each of its
 * attempts is a call of ours, through the rate limit and the breaker). Backups are not built
 * here: the client's request is all there is.
 */
export class FetchAttempts implements CallAdapter {
  readonly client = undefined;
  readonly classes = undefined;
  readonly clientRetries = true;
  request?: SendRequest;

  constructor(
    readonly path: string,
    /** The URL up to the operation's path (`https://api.openai.com/v1`). */
    private readonly baseURL: string,
    private readonly moderationSend: ModerationSend,
  ) {}

  async build(): Promise<BuiltAttempt> {
    const req = this.request!;
    return { url: req.url, headers: req.init.headers, ms: req.ms, send: (controller) => req.fetch(undefined, req.url, req.init, req.ms, controller) };
  }

  prepareBackup(): boolean {
    return false;
  }

  /** The same provider's moderation endpoint, with the request's own credentials. */
  async moderations(model: string, input: unknown, ctx: Context): Promise<unknown> {
    const headers = new Headers(this.request?.init.headers as HeadersInit | undefined);
    headers.delete('content-length');
    headers.set('content-type', 'application/json');
    const response = await this.moderationSend(`${this.baseURL}/moderations`, { method: 'POST', headers, body: JSON.stringify({ model, input }) }, ctx);
    if (!response.ok) throw new Error(`moderation endpoint answered ${response.status}`);
    return response.json();
  }
}

/** Sends one attempt with the process's own fetch, on the attempt's controller, within `ms`. */
export function sendWith(original: typeof fetch): SendRequest['fetch'] {
  return (_client, url, init, ms, controller) => {
    const attempt = original(url, { ...init, signal: controller.signal });
    if (!Number.isFinite(ms)) return attempt;
    const timer = setTimeout(() => controller.abort(new DOMException('The operation timed out.', 'TimeoutError')), ms);
    return attempt.finally(() => clearTimeout(timer));
  };
}
