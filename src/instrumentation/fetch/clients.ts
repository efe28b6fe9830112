import type { GovernorErrorCode } from '../../errors';
import { refusalResponse, type Refusal } from '../../pipeline/wire';

/**
 * The clients the wire entry tells apart, by their `user-agent`, and the answer each must get
 * for a refusal of ours: one it surfaces at once, as its own error type, without retrying.
 *
 * - The openai SDK (`OpenAI/JS …`, bundled where no `require` hook sees it) honours
 *   `x-should-retry: false`: it gets our refusal as the SDK adapter gives it (429 for a budget,
 *   503 for an open breaker), and raises its own `APIError` with our code.
 * - The AI SDK (`ai-sdk/…`) retries 408, 409, 429 and every 5xx whatever the headers say: it gets
 *   a status it never retries (402 for a budget, 424 for a dependency we hold back, 400 for
 *   content), and raises its `APICallError` with our code in `data.error.code`.
 * - Any other client gets the SDK adapter's status and headers.
 */
export type WireClient = 'openai' | 'ai-sdk' | 'langchain' | 'other';

export function clientOf(userAgent: string | null | undefined): WireClient {
  if (!userAgent) return 'other';
  if (/\bai-sdk[/-]/i.test(userAgent)) return 'ai-sdk';
  if (/^OpenAI\/JS\b/.test(userAgent)) return 'openai';
  if (/langchain/i.test(userAgent)) return 'langchain';
  return 'other';
}

/** Statuses the AI SDK does not retry, one per refusal (its retryable set: 408, 409, 429, ≥ 500). */
const NOT_RETRIED_BY_AI_SDK: Readonly<Record<GovernorErrorCode, number>> = {
  budget_exceeded: 402,
  budget_unavailable: 424,
  circuit_open: 424,
  rate_limited: 424,
  content_blocked: 400,
};

/** The status a refusal is answered with, for `client`. */
export function refusalStatus(r: Refusal, client: WireClient): number {
  return client === 'ai-sdk' ? NOT_RETRIED_BY_AI_SDK[r.code] : r.status;
}

/** A refusal of ours as `client` must see it: the provider's error format, our code, never retried. */
export function refusalFor(r: Refusal, client: WireClient): Response {
  return refusalResponse({ ...r, status: refusalStatus(r, client) });
}
