import type { Attributes, Context } from '@opentelemetry/api';
import type { Attribution } from '../../attribution';
import type { AuditEventFacts, AuditKind } from '../../audit';
import type { GovernorConfig } from '../../config/schema';
import type { Admission } from '../../cost/engine';
import type { Governor } from '../../cost/governor';
import type { CachedResponse } from '../../guards/cache';
import type { Guards } from '../../guards';
import type { Body, Operation } from '../../operations';
import type { CallRecord } from '../../operations/record';
import type { ProviderInfo } from '../../providers/detect';

/**
 * A call being admitted: what the admission steps read (the request, the settings and guards)
 * and what they decide (the copy of the body to send, the attribution, a cached answer, the
 * budget reservation). Steps run in the order of `admission-order.ts`; each may change the body
 * copy (never the app's own object), answer from the cache, or refuse with one of our errors,
 * which reaches the app through the SDK's own promise; nothing is then sent.
 */
export interface Admitting {
  readonly config: GovernorConfig;
  readonly guards?: Guards;
  readonly governor?: Governor;
  readonly op: Operation;
  readonly provider: ProviderInfo;
  /** The app's client (our errors are built from its SDK's classes). */
  readonly client: unknown;
  /** The API path (`/chat/completions`, …), for the cache key and moderation. */
  readonly path: string;
  /** The context the call was made in (baggage carries the attribution). */
  readonly parent: Context;
  readonly rec: CallRecord;
  /** The app's request options: its body (never changed) and headers. */
  readonly original: { body?: unknown; headers?: unknown };
  /** The body is a plain JSON object we may copy (not a multipart upload). */
  readonly plain: boolean;

  /** The body to send: the app's, or our copy of it once a step changed something. */
  body?: Body;
  attribution: Attribution;
  cached?: CachedResponse;
  cacheKey?: string;
  admission?: Admission;

  setAttributes(attrs: Attributes): void;
  /** The request model is known now: the span's name follows it. */
  renamed(): void;
  audit(kind: AuditKind, facts?: AuditEventFacts): void;
  countRejected(reason: string): void;
  /** Metric attributes of the call (provider, operation, request model; bounded). */
  identity(): Record<string, string>;
  /** Asks the moderation endpoint, through the app's own client, as a child call. */
  moderations(model: string, input: unknown): Promise<unknown>;
  /** An error the app's SDK knows (`APIError` subclass) for a refusal of ours. */
  refusal(code: 'content_blocked', status: number, message: string, details: object): Error;
}

export type AdmissionStep = (a: Admitting) => void | Promise<void>;
