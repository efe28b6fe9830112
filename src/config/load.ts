import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { configSchema, type GovernorConfig } from './schema';
import { ENV_BINDINGS, ENV_CONFIG_FILE } from './sources';

const DROPPED = Symbol('dropped');
/** Settings whose value is never echoed in a message. */
const SECRET_KEYS = new Set(['redis_url', 'user_hash_salt']);

export interface ConfigProblem {
  /** The environment variable, or `LLM_GOVERNOR_CONFIG (<file>): <key path>`. */
  source: string;
  message: string;
}

export interface LoadedConfig {
  config: GovernorConfig;
  problems: ConfigProblem[];
  /** Which source set each key that was set (for `check-config`). */
  origins: Record<string, string>;
  file?: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`llm-governor: invalid configuration:\n${problems.map((p) => `  - ${p.source}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function readFileConfig(file: string): Record<string, unknown> {
  const text = readFileSync(file, 'utf8');
  const data = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  if (data == null) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new Error('expected a mapping of settings at the top level');
  return data as Record<string, unknown>;
}

/**
 * Reads the config file and the environment into one validated config. Invalid values are
 * reported as problems and replaced by their defaults, so the app keeps running; the caller
 * decides whether `fail_closed` turns problems into a refusal to start.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const raw: Record<string, unknown> = {};
  const origins: Record<string, string> = {};
  const problems: ConfigProblem[] = [];
  const file = env[ENV_CONFIG_FILE]?.trim() || undefined;
  if (file) {
    try {
      for (const [k, v] of Object.entries(readFileConfig(file))) {
        raw[k] = v;
        origins[k] = `${ENV_CONFIG_FILE} (${file})`;
      }
    } catch (err) {
      problems.push({ source: `${ENV_CONFIG_FILE} (${file})`, message: `cannot be read: ${(err as Error).message}` });
    }
  }
  for (const { key, env: names } of ENV_BINDINGS) {
    const name = names.find((n) => env[n] !== undefined && env[n] !== '');
    if (name) {
      raw[key] = env[name];
      origins[key] = name;
    }
  }

  // Drop each invalid value (reporting it against the variable that set it) until the rest parses.
  for (let round = 0; round < 50; round++) {
    for (const [k, v] of Object.entries(raw)) if (Array.isArray(v)) raw[k] = v.filter((x) => x !== DROPPED);
    const result = configSchema.safeParse(raw);
    if (result.success) return { config: result.data, problems, origins, file };
    for (const issue of result.error.issues) {
      const key = String(issue.path[0] ?? '');
      const unknownKeys: string[] = issue.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys : [];
      if (unknownKeys.length) {
        for (const k of unknownKeys) {
          problems.push({ source: `${origins[k] ?? ENV_CONFIG_FILE}: ${k}`, message: 'is not a known setting' });
          delete raw[k];
        }
        continue;
      }
      const where = origins[key]?.startsWith(ENV_CONFIG_FILE) ? `${origins[key]}: ${issue.path.join('.')}` : origins[key] ?? key;
      const got = issue.path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string | number, unknown>)[k as string] : undefined), raw);
      const shown = SECRET_KEYS.has(key) ? 'a value not shown, it may hold a secret' : JSON.stringify(got);
      problems.push({ source: where, message: `${issue.message} (got ${shown})` });
      // In a list (budgets), drop only the entry that is wrong; elsewhere the whole setting.
      const list = raw[key];
      if (Array.isArray(list) && typeof issue.path[1] === 'number') {
        list[issue.path[1]] = DROPPED;
        continue;
      }
      delete raw[key];
      delete origins[key];
    }
  }
  return { config: configSchema.parse({}), problems, origins, file };
}
