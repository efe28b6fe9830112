/**
 * Usage a provider reports that cannot be true: negative, not a whole number, not finite, or
 * above what the model can take in or give out. Such usage is not believed: the call is flagged
 * and priced at its worst case. Pure, table-tested.
 */
import type { Usage } from '../operations/record';

export type SuspiciousReason = 'negative' | 'not_integer' | 'above_context';

const TOKEN_FIELDS = ['inputTokens', 'outputTokens', 'cachedInputTokens', 'cacheWriteInputTokens', 'reasoningTokens', 'audioInputTokens', 'audioOutputTokens', 'imageInputTokens'] as const;

/**
 * The first reason `usage` cannot be true for a model with these limits (`choices`: answers asked
 * for, each up to `maxOutput`), or undefined. Limits that are unknown are not checked, but an
 * input above 100 million tokens is above any context there is.
 */
export function suspiciousUsage(usage: Usage, limits: { maxInput?: number; maxOutput?: number; choices?: number }): SuspiciousReason | undefined {
  for (const f of TOKEN_FIELDS) {
    const v = usage[f];
    if (v === undefined) continue;
    if (!Number.isFinite(v) || !Number.isInteger(v)) return 'not_integer';
    if (v < 0) return 'negative';
  }
  const maxInput = limits.maxInput ?? ANY_CONTEXT;
  const maxOutput = (limits.maxOutput ?? ANY_CONTEXT) * Math.max(1, limits.choices ?? 1);
  if ((usage.inputTokens ?? 0) > maxInput) return 'above_context';
  if ((usage.outputTokens ?? 0) > maxOutput) return 'above_context';
  if ((usage.cachedInputTokens ?? 0) > (usage.inputTokens ?? maxInput)) return 'above_context';
  return undefined;
}

/** No model takes more than this in one call; beyond it, usage is absurd whatever the model. */
const ANY_CONTEXT = 100_000_000;
