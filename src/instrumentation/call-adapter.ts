import type { Context } from '@opentelemetry/api';
import type { BackupMaker } from '../guards/backup-env';
import type { Target } from '../guards/fallback';
import type { Body } from '../operations';
import type { BuiltAttempt } from '../pipeline/send-layer';

/**
 * One way into the call lifecycle. The lifecycle (`call.ts`) and the pipeline are the same for
 * every client; what differs is only how a try of the request is built and sent, and whose
 * classes our errors and backups are made of:
 *
 * - the openai SDK's adapter (`sdk-attempts.ts`), fed by the patched client (`patch.ts`);
 * - the process's `fetch` (`fetch/attempts.ts`), fed by the wrapped global `fetch`, for every
 *   other client (the AI SDK, a bundled `openai`, a hand-written `fetch`).
 */
export interface CallAdapter {
  /** The app's SDK client, when the call comes through one: our errors are its `APIError` subclasses. */
  readonly client: unknown;
  /** The API path the operation was found by (`/chat/completions`, …): the cache key and moderation use it. */
  readonly path: string;
  /** What builds this way's backups (the SDK's client classes, or the wire's requests); absent: no fallback. */
  readonly backupMaker?: BackupMaker;
  /** The client runs its own retry loop: ours makes one try of each request it sends. */
  readonly clientRetries: boolean;
  /** The request of this call, as the entry handed it over (set by the call's `send`). */
  request?: SendRequest;
  /** Builds try `retry` of the request on `target` (the primary's first try is the entry's own request). */
  build(target: Target, retry: number): Promise<BuiltAttempt>;
  /** A backup's request, made once before its first try. False: it cannot be made (skipped). */
  prepareBackup(target: Target, body: () => Body, signal: AbortSignal | null | undefined): boolean;
  /** Asks the moderation endpoint of the same provider, as a child call in `ctx`. */
  moderations(model: string, input: unknown, ctx: Context): Promise<unknown>;
}

/** What an entry hands to the send step: its request for this attempt, and how to send it once. */
export interface SendRequest {
  url: string;
  init: RequestInit & { signal?: AbortSignal | null; body?: unknown };
  /** The per-attempt timeout, in ms (`Infinity`: none). */
  ms: number;
  /** The call's controller: the app's abort reaches it. */
  controller: AbortController;
  /** Sends one attempt: the SDK's own fetchWithTimeout, unwrapped, bound to the client given; or the process's own fetch. */
  fetch: (client: unknown, url: string, init: RequestInit, ms: number, controller: AbortController) => Promise<Response>;
}
