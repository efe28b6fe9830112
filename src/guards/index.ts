import type { Meter } from '@opentelemetry/api';
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
  /** The response cache (absent unless turned on). */
  cache?: ResponseCache;
  moderation?: ModerationGuard;
  backups: BackupClients;
  metrics: ResilienceMetrics;
}

export function createGuards(config: GovernorConfig, meter: Meter): Guards {
  const moderation = new ModerationGuard({ config, meter });
  return {
    breakers: config.breaker_enabled ? breakersFrom(config, meter) : undefined,
    limiter: new RateLimiter({ config, meter }),
    cache: config.cache_enabled ? new ResponseCache({ config, meter }) : undefined,
    moderation: moderation.active ? moderation : undefined,
    backups: new BackupClients(process.env, () => config.provider_overrides),
    metrics: new ResilienceMetrics(meter),
  };
}

/** Process end: close what holds connections. */
export async function closeGuards(guards: Guards | undefined): Promise<void> {
  await Promise.allSettled([guards?.limiter.close(), guards?.cache?.close()]);
}
