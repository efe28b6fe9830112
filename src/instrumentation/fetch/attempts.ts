import { diag, type Context } from '@opentelemetry/api';
import type { BackupEndpoint } from '../../guards/backup-env';
import type { Target } from '../../guards/fallback';
import type { Body } from '../../operations';
import { TargetUnusable, type BuiltAttempt } from '../../pipeline/send-layer';
import type { CallAdapter, SendRequest } from '../call-adapter';
import { backupRequest, wireBackups, type WireBackupRequest } from './backup-request';

/** What sends a moderation request for a call (the wire entry, as a child call of `ctx`). */
export type ModerationSend = (url: string, init: RequestInit, ctx: Context) => Promise<Response>;

/**
 * The process's `fetch` as a way into the call lifecycle: each request the client sends is one
 * call, sent once, as the client built it (the client keeps its own retry loop: each of its
 * attempts is a call of ours, through the rate limit and the breaker). A backup's request is
 * made from the client's (`backup-request.ts`), once, when the call falls back to it.
 */
export class FetchAttempts implements CallAdapter {
  readonly client = undefined;
  readonly backupMaker = wireBackups;
  readonly clientRetries = true;
  request?: SendRequest;
  /** A backup's request, kept for all its tries (made only when a call falls back). */
  private backups?: Map<Target, WireBackupRequest>;

  constructor(
    readonly path: string,
    /** The operation's own path (`/chat/completions`), whatever the client's URL put before it. */
    private readonly opPath: string,
    /** The URL up to the operation's path (`https://api.openai.com/v1`). */
    private readonly baseURL: string,
    private readonly moderationSend: ModerationSend,
  ) {}

  async build(target: Target): Promise<BuiltAttempt> {
    const req = this.request!;
    const { url, init } = target.primary ? req : (this.backups?.get(target) ?? unusable());
    return { url, headers: init.headers, ms: req.ms, send: (controller) => req.fetch(undefined, url, init, req.ms, controller) };
  }

  /** The backup's request (the body with its model), from its endpoint and the client's request. False: it cannot be made. */
  prepareBackup(target: Target, body: () => Body, signal: AbortSignal | null | undefined): boolean {
    try {
      const request = backupRequest(target.client as BackupEndpoint, this.opPath, body(), this.request!.init, signal);
      (this.backups ??= new Map()).set(target, request);
      return true;
    } catch (err) {
      diag.warn(`llm-governor: fallback to ${target.provider.name} ${target.model} skipped: its request could not be built (${(err as Error)?.message})`);
      return false;
    }
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

function unusable(): never {
  throw new TargetUnusable('no request was made for this backup');
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
