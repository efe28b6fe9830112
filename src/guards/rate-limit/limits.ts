import type { GovernorConfig } from '../../config/schema';
import { globMatcher } from '../../cost/budgets';

/** The limits of one provider+model target; at least one is set. */
export interface Limits {
  /** Requests per 60-second window. */
  rpm?: number;
  /** Tokens (estimated input + requested output) per 60-second window. */
  tpm?: number;
}

export interface RateLimitTarget {
  provider: string;
  model: string;
  /** The host the call goes to: quotas are per endpoint (two Azure resources have two). */
  server?: string;
}

/**
 * The id of a target: its window, its Redis key and the prefix of its limiter ids. Per server,
 * so that a pause one endpoint asked for (its `x-ratelimit-*` headers) holds only that endpoint.
 */
export function targetKey(target: RateLimitTarget): string {
  return target.server ? `${target.provider}|${target.model}|${target.server}` : `${target.provider}|${target.model}`;
}

/**
 * Limits per target from the config: the first `rate_limits` entry whose provider (exact, or
 * absent) and model (glob, or absent) match wins, whole (an entry without `tpm` means no TPM limit
 * for its targets); else the global `rate_limit_rpm` / `rate_limit_tpm`. Undefined: no limit.
 */
export function limitsResolver(config: Pick<GovernorConfig, 'rate_limit_rpm' | 'rate_limit_tpm' | 'rate_limits'>): (target: RateLimitTarget) => Limits | undefined {
  const rules = (config.rate_limits ?? []).map((r) => {
    const model = r.model === undefined ? () => true : globMatcher(r.model);
    return {
      matches: (t: RateLimitTarget) => (r.provider === undefined || r.provider === t.provider) && model(t.model),
      limits: normalize(r.rpm, r.tpm),
    };
  });
  const fallback = normalize(config.rate_limit_rpm, config.rate_limit_tpm);
  return (target) => {
    for (const rule of rules) if (rule.matches(target)) return rule.limits;
    return fallback;
  };
}

/** Whether any limit can apply to some target. */
export function anyLimit(config: Pick<GovernorConfig, 'rate_limit_rpm' | 'rate_limit_tpm' | 'rate_limits'>): boolean {
  return normalize(config.rate_limit_rpm, config.rate_limit_tpm) !== undefined || (config.rate_limits ?? []).some((r) => normalize(r.rpm, r.tpm) !== undefined);
}

function normalize(rpm: number | undefined, tpm: number | undefined): Limits | undefined {
  const ok = (n: number | undefined) => typeof n === 'number' && Number.isFinite(n) && n > 0;
  if (!ok(rpm) && !ok(tpm)) return undefined;
  return Object.freeze({ ...(ok(rpm) ? { rpm: Math.max(1, Math.floor(rpm!)) } : {}), ...(ok(tpm) ? { tpm: Math.max(1, Math.floor(tpm!)) } : {}) });
}
