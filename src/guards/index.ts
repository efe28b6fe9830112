import type { Meter } from '@opentelemetry/api';
import { NO_AUDIT, type AuditRecorder } from '../audit/trail';
import type { GovernorConfig } from '../config/schema';
import { breakerSettings, breakersFrom, type Breakers } from './breaker';
import { ResponseCache } from './cache';
import { BackupClients } from './fallback';
import { ResilienceMetrics } from './metrics';
import { ModerationGuard } from './moderation';
import { RateLimiter } from './rate-limit';

/**
 * Every guard a call passes through, built once per process from the config and carried across
 * reloads: a reload reconfigures them in place, so the rate-limit windows, the cache and breakers
 * whose settings stay keep what they hold.
 */
export interface Guards {
  /** Circuit breakers, one per provider, model and server (absent when turned off). */
  breakers?: Breakers;
  /** Client-side RPM/TPM limits and the provider's rate-limit headers. */
  limiter: RateLimiter;
  /** The response cache, built on first use: on for every call by config, or per call by header. */
  readonly cache: ResponseCache;
  /** Whether calls use the cache unless their header says otherwise. */
  cacheByDefault: boolean;
  /** The cache if it was ever built (for shutdown). */
  builtCache(): ResponseCache | undefined;
  moderation?: ModerationGuard;
  backups: BackupClients;
  metrics: ResilienceMetrics;
  /** A reload: calls that start from now on see the new settings. */
  reconfigure(config: GovernorConfig): void;
}

export function createGuards(config: GovernorConfig, meter: Meter, audit: AuditRecorder = NO_AUDIT): Guards {
  let current = config;
  let cache: ResponseCache | undefined;
  // Built whether on or not: one set of breakers (and one gauge) for the life of the process.
  const breakers = breakersFrom(config, meter, audit);
  const moderationFor = (c: GovernorConfig) => {
    const moderation = new ModerationGuard({ config: c, meter });
    return moderation.active ? moderation : undefined;
  };
  const guards: Guards = {
    get cache() {
      return (cache ??= new ResponseCache({ config: current, meter }));
    },
    cacheByDefault: config.cache_enabled,
    builtCache: () => cache,
    breakers: config.breaker_enabled ? breakers : undefined,
    limiter: new RateLimiter({ config, meter }),
    moderation: moderationFor(config),
    backups: new BackupClients(process.env, () => current.provider_overrides),
    metrics: new ResilienceMetrics(meter),
    reconfigure(next) {
      current = next;
      if (next.breaker_enabled) breakers.reconfigure(breakerSettings(next));
      else breakers.reset();
      guards.breakers = next.breaker_enabled ? breakers : undefined;
      guards.limiter.reconfigure(next);
      cache?.reconfigure(next);
      guards.cacheByDefault = next.cache_enabled;
      guards.moderation = moderationFor(next);
    },
  };
  return guards;
}

/** Process end: close what holds connections. */
export async function closeGuards(guards: Guards | undefined): Promise<void> {
  await Promise.allSettled([guards?.limiter.close(), guards?.builtCache()?.close()]);
}
