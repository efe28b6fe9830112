import type { Meter } from '@opentelemetry/api';
import { NO_AUDIT, type AuditRecorder } from '../audit/trail';
import type { GovernorConfig } from '../config/schema';
import { breakersFrom, type Breakers } from './breaker';
import { ResponseCache } from './cache';
import { BackupClients } from './fallback';
import { ResilienceMetrics } from './metrics';
import { ModerationGuard } from './moderation';
import { RateLimiter } from './rate-limit';

/** Every guard a call passes through, built once per process from the config. */
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
}

export function createGuards(config: GovernorConfig, meter: Meter, audit: AuditRecorder = NO_AUDIT): Guards {
  const moderation = new ModerationGuard({ config, meter });
  let cache: ResponseCache | undefined;
  return {
    get cache() {
      return (cache ??= new ResponseCache({ config, meter }));
    },
    cacheByDefault: config.cache_enabled,
    builtCache: () => cache,
    breakers: config.breaker_enabled ? breakersFrom(config, meter, audit) : undefined,
    limiter: new RateLimiter({ config, meter }),
    moderation: moderation.active ? moderation : undefined,
    backups: new BackupClients(process.env, () => config.provider_overrides),
    metrics: new ResilienceMetrics(meter),
  };
}

/** Process end: close what holds connections. */
export async function closeGuards(guards: Guards | undefined): Promise<void> {
  await Promise.allSettled([guards?.limiter.close(), guards?.builtCache()?.close()]);
}
