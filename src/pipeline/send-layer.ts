import type { AuditEventFacts, AuditKind } from '../audit';
import type { GovernorConfig } from '../config/schema';
import type { CachedResponse } from '../guards/cache';
import type { BackupMaker } from '../guards/backup-env';
import type { Target } from '../guards/fallback';
import type { Guards } from '../guards';
import type { Refusal } from './wire';

/**
 * The send path as layers around a transport, in the manner of undici's interceptors or koa's
 * middleware: a layer takes the next step and returns a step. A step takes one outgoing request
 * and the call's scope and answers with a `Response`: the provider's, a cached one, or a refusal
 * of ours (see `wire.ts`). A failed attempt (no usable answer) is thrown as `AttemptFailed`; the
 * app's own abort is thrown as it came, and ends the walk.
 *
 * Layers know no SDK: the adapter (the openai SDK's `patch.ts`, or `fetch`) fills the scope in.
 */

/** One request on its way out: where to, and which try on that target (0 for the first). */
export interface Outgoing {
  readonly target: Target;
  readonly retry: number;
}

export type Send = (req: Outgoing, call: CallScope) => Promise<Response>;
export type SendLayer = (next: Send) => Send;

/** How a call ended, as the finish callbacks see it. */
export interface CallEnd {
  outcome: 'completed' | 'broken' | 'aborted' | 'error' | 'unread' | 'incomplete';
  /** The failure, when the outcome is `error`. */
  error?: unknown;
  /** Tokens the call used (input + output), when it produced anything; else 0. */
  tokens: number;
}

/** A request as the adapter built it for one attempt, and how to send it. */
export interface BuiltAttempt {
  readonly url: string;
  readonly headers?: unknown;
  /** Sends it once, on `controller` (the attempt's own), with the per-attempt timeout `ms`. */
  send(controller: AbortController): Promise<Response>;
  /** The per-attempt timeout, in ms. */
  readonly ms: number;
}

/**
 * What a layer may touch of its call: the settings and guards, a few facts about the request,
 * the call's telemetry (audit, events, attributes) and its end. Never the call object itself.
 */
export interface CallScope {
  readonly config: GovernorConfig;
  readonly guards?: Guards;
  /** The app's own abort signal for this call. */
  readonly signal?: AbortSignal | null;
  /** The SDK's controller of this call: the app's abort (`stream.controller.abort()`) reaches it. */
  readonly controller: AbortController;
  /** Our loop retries and falls back (a JSON body we can send again); else one attempt, the SDK's. */
  readonly ownsRetries: boolean;
  readonly maxRetries: number;
  /** The call asked for a stream. */
  readonly stream: boolean;
  /** The app's own provider, model and client. */
  readonly primary: Target;
  /** What builds the backups of the call's way in (absent: no fallback). */
  readonly backupMaker?: BackupMaker;
  /** The model the app asked for (fallback chains match on it). */
  readonly requestModel?: string;
  /** A cached answer found at admission, and the key to store a fresh one under. */
  readonly cached?: CachedResponse;
  readonly cacheKey?: string;

  /** The request's tokens for a TPM limit (counted once). */
  tokens(): number;
  /** Builds try `retry` of the request on `target` (the first try of the primary is the SDK's own). */
  build(target: Target, retry: number): Promise<BuiltAttempt>;
  /** Before the first try on a backup: its request can be made (false: skip it, said once). */
  prepareBackup(target: Target): boolean;
  /** Moving to a backup: recorded, and re-admitted on the budgets; a refusal skips it. */
  switchTo(target: Target, from: Target, reason: string): Promise<Refusal | undefined>;
  /** The answer served came from `target`. */
  served(target: Target): void;
  /** The body of a JSON answer, read whole and parsed by the transport. */
  answerRead(value: unknown): void;
  /** Every target was down and `entry` (past its TTL, within the stale window) answers instead: counted, audited, charged nothing. */
  servedStale(entry: CachedResponse): void;

  attemptStarted(target: Target): void;
  attemptFinished(status: number | undefined, error?: unknown): void;
  audit(kind: AuditKind, facts?: AuditEventFacts): void;
  setAttribute(key: string, value: string | number | boolean | string[]): void;
  /** Counts a refusal of ours in `llm_governor_requests_rejected_total{reason}`. */
  countRejected(reason: string): void;
  /** Runs `cb` once, when the call ends, whatever the exit. */
  onFinish(cb: (end: CallEnd) => void): void;
}

/** A try that gave no usable answer: retried, or the next target taken. */
export class AttemptFailed extends Error {
  constructor(
    /** What fetch raised (or the body's parse error): what the SDK sees if this is the last try. */
    readonly error: unknown,
    /** Why, for the retry and fallback counters: `timeout`, or the error type. */
    readonly reason: string,
    /** It counts against the provider's breaker (a timeout, a connection error, a cut-off body). */
    readonly providerFault: boolean,
    /** The answer itself, when it came but its body was unusable: the SDK sees it if this is the last try. */
    readonly response?: Response,
  ) {
    super(`attempt failed: ${reason}`);
  }
}

/** Composes layers around a transport: the first layer is the outermost. */
export function compose(layers: readonly SendLayer[], transport: Send): Send {
  return layers.reduceRight<Send>((next, layer) => layer(next), transport);
}

/**
 * The answers here may be the web `Response` or openai 4's node-fetch one: a failed try is told
 * apart by `instanceof AttemptFailed`, never by `instanceof Response`.
 */
/** The final word of a walk that ended in failure: the answer the SDK must see, or what it must throw. */
export function settleFailure(last: Response | AttemptFailed): Response {
  if (!(last instanceof AttemptFailed)) return last;
  if (last.response) return last.response;
  throw last.error;
}

/** A target whose request cannot be made (a backup's client failed to build it): the next one is taken. */
export class TargetUnusable extends Error {}

/**
 * A guard refused a try after a real failure on the same target (the breaker opened on it, say):
 * the walk decides on the refusal, and the app sees the real failure if the walk ends here.
 */
export class RefusedAfterFailure extends Error {
  constructor(
    readonly refusal: Refusal,
    readonly last: Response | AttemptFailed,
  ) {
    super(`refused (${refusal.code}) after a failed attempt`);
  }
}

/** Why a try failed, for the retry and fallback counters: the status, or the failure's reason. */
export function reasonOf(last: Response | AttemptFailed | undefined): string | undefined {
  if (!last) return undefined;
  return last instanceof AttemptFailed ? last.reason : String(last.status);
}
