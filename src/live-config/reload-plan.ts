import { isDeepStrictEqual } from 'node:util';
import type { ConfigProblem, LoadedConfig } from '../config/load';
import type { GovernorConfig } from '../config/schema';

/**
 * Settings that take effect only when the process starts: what the SDK, the connections and the
 * metric label bounds were built with, and the reload machinery itself. A reload that changes one
 * keeps the value in force, says so, and applies the rest.
 */
export const RESTART_ONLY: readonly (keyof GovernorConfig)[] = [
  'disabled',
  'sdk',
  'service_name',
  'redis_url',
  'redis_command_timeout_ms',
  'cache_store',
  'cache_max_entries',
  'label_limit',
  'wire_label_limit',
  'audit_queue_size',
  'config_watch',
  'fleet_config',
  'fleet_config_check_seconds',
];

export interface ReloadPlan {
  /** False: the new config brings an invalid value, and is rejected whole. */
  accepted: boolean;
  /** What would be in force: the new settings, with the restart-only ones kept as they are. */
  config: GovernorConfig;
  /** Problems the config in force did not already have (a value left out at start stays left out). */
  newProblems: ConfigProblem[];
  /** Restart-only settings the new config changes, kept as they are until a restart. */
  keptUntilRestart: string[];
  /** The settings whose value changes. */
  changed: string[];
}

const problemId = (p: ConfigProblem) => `${p.source}\u0000${p.message}`;

/** What a reload from `current` to `next` does (pure). */
export function planReload(current: Pick<LoadedConfig, 'config' | 'problems'>, next: Pick<LoadedConfig, 'config' | 'problems'>): ReloadPlan {
  const known = new Set(current.problems.map(problemId));
  const newProblems = next.problems.filter((p) => !known.has(problemId(p)));
  const config = { ...next.config } as Record<string, unknown>;
  const keptUntilRestart: string[] = [];
  for (const key of RESTART_ONLY) {
    if (isDeepStrictEqual(config[key], current.config[key])) continue;
    keptUntilRestart.push(key);
    if (current.config[key] === undefined) delete config[key];
    else config[key] = current.config[key];
  }
  const keys = new Set([...Object.keys(config), ...Object.keys(current.config)]);
  const changed = [...keys].filter((k) => !isDeepStrictEqual(config[k], (current.config as Record<string, unknown>)[k])).sort();
  return { accepted: newProblems.length === 0, config: config as GovernorConfig, newProblems, keptUntilRestart, changed };
}
