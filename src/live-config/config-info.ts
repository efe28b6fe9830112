import type { Meter } from '@opentelemetry/api';
import type { LoadedConfig } from '../config/load';
import { ENV_CONFIG_FILE } from '../config/sources';
import { CONFIG_ATTR, GOVERNOR_METRIC } from '../semconv';
import { restoreSeries, withdrawSeries } from '../util/withdrawn-series';
import { settingsDigest } from './fleet-doc';

/** The config in force, as `llm_governor_config_info` and `config_loaded` name it. */
export interface ConfigInfo {
  /** The fleet config's version, or `local` when no fleet config is in force. */
  version: string;
  /** Where the settings in force came from, the highest layer that set any: fleet, file, env or defaults. */
  origin: 'fleet' | 'file' | 'env' | 'defaults';
  /** The first 16 hex digits of the digest of the settings in force: two processes that differ show it. */
  sha256: string;
}

export function configInfoOf(loaded: Pick<LoadedConfig, 'config'> & Partial<Pick<LoadedConfig, 'origins' | 'fleet'>>): ConfigInfo {
  const origins = Object.values(loaded.origins ?? {});
  const fleet = loaded.fleet && Object.keys(loaded.fleet.settings).length > 0 ? loaded.fleet : undefined;
  const origin = fleet ? 'fleet' : origins.some((o) => o.startsWith(ENV_CONFIG_FILE)) ? 'file' : origins.length ? 'env' : 'defaults';
  return { version: fleet ? String(fleet.version) : 'local', origin, sha256: settingsDigest(loaded.config as Record<string, unknown>).slice(0, 16) };
}

/** The gauge's attributes for `info`. */
function attributesOf(i: ConfigInfo) {
  return { [CONFIG_ATTR.VERSION]: i.version, [CONFIG_ATTR.ORIGIN]: i.origin, [CONFIG_ATTR.SHA256]: i.sha256 };
}

/**
 * The config in force changed: the series of the one before is withdrawn from the exports (the
 * metrics SDK would go on reporting it), so a scrape shows one config in force.
 */
export function configInfoChanged(before: ConfigInfo | undefined, now: ConfigInfo): void {
  restoreSeries(attributesOf(now));
  if (before && JSON.stringify(attributesOf(before)) !== JSON.stringify(attributesOf(now))) withdrawSeries([GOVERNOR_METRIC.CONFIG_INFO], attributesOf(before));
}

/** `llm_governor_config_info{version, origin, sha256} 1`, read from `info` at each collection. */
export function observeConfigInfo(meter: Meter, info: () => ConfigInfo | undefined): void {
  meter
    .createObservableGauge(GOVERNOR_METRIC.CONFIG_INFO, { description: 'The config in force: its fleet version (or local), its origin and the digest of its settings; always 1' })
    .addCallback((result) => {
      const i = info();
      if (i) result.observe(1, attributesOf(i));
    });
}
