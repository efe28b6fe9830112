import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { redact } from '../redaction';
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
  /** What is in force but cannot work yet on this machine (an audit folder that does not exist). */
  warnings?: string[];
  /** The fleet config document laid over the file and the environment, when there is one. */
  fleet?: FleetLayer;
}

/**
 * The fleet-wide config pushed through Redis (`llm-governor config push`): the settings it holds
 * override the environment's and the file's, key by key.
 */
export interface FleetLayer {
  settings: Record<string, unknown>;
  version: number;
  /** Who pushed it, from where and when (`alice@host: fleet.yaml at 2026-12-03T15:00:00Z`). */
  origin: string;
}

/** The origin of a setting from the fleet document. */
export function fleetOrigin(version: number): string {
  return `fleet config (version ${version})`;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(redact(`llm-governor: invalid configuration:\n${problems.map((p) => `  - ${p.source}: ${p.message}`).join('\n')}`));
    this.name = 'ConfigError';
  }
}

export function readFileConfig(file: string): Record<string, unknown> {
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
export function loadConfig(env: NodeJS.ProcessEnv = process.env, fleet?: FleetLayer): LoadedConfig {
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
  // Precedence: file < environment < fleet (the operator's live decision for every process).
  for (const [k, v] of Object.entries(fleet?.settings ?? {})) {
    raw[k] = structuredClone(v);
    origins[k] = fleetOrigin(fleet!.version);
  }

  // Drop each invalid value, and only that value (reporting it by its full path against the
  // source that set it), until the rest parses: one typo never takes the other settings with it.
  const seen = new Set<string>();
  const report = (p: ConfigProblem) => {
    const k = `${p.source}\u0000${p.message}`;
    if (seen.has(k)) return;
    seen.add(k);
    problems.push(p);
  };
  for (let round = 0; round < MAX_ROUNDS; round++) {
    for (const [k, v] of Object.entries(raw)) if (Array.isArray(v)) raw[k] = v.filter((x) => x !== DROPPED);
    const result = configSchema.safeParse(raw);
    if (result.success) return { config: result.data, problems, origins, file, warnings: environmentWarnings(result.data), ...(fleet ? { fleet } : {}) };
    // One problem per value: a second issue on a path already dropped this round says nothing new.
    const handled: string[] = [];
    for (const issue of result.error.issues) {
      const at = formatPath(issue.path);
      if (handled.some((h) => at === h || at.startsWith(`${h}.`) || at.startsWith(`${h}[`))) continue;
      handled.push(at);
      dropInvalid(raw, origins, issue, report);
    }
  }
  // Unreachable in practice (every round drops something); never the whole config.
  const rest = configSchema.safeParse({ fail_closed: raw.fail_closed });
  return { config: rest.success ? rest.data : configSchema.parse({}), problems, origins, file, warnings: [] };
}

const MAX_ROUNDS = 200;

type Issue = { code: string; path: PropertyKey[]; message: string; keys?: string[] };

/** `budgets[2].window`, `prices.gpt-4o-mini.inptu`. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${String(seg)}` : String(seg);
  return out;
}

function sourceOf(origins: Record<string, string>, path: readonly PropertyKey[]): string {
  const key = String(path[0] ?? '');
  const origin = origins[key];
  if (!origin) return formatPath(path);
  return origin.startsWith(ENV_CONFIG_FILE) || origin.startsWith('fleet') ? `${origin}: ${formatPath(path)}` : path.length > 1 ? `${origin} (${formatPath(path)})` : origin;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const seg of path) v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[seg as string] : undefined;
  return v;
}

/** Deletes the value at `path` (an object key or a list entry); false when there is none. */
function deleteAt(root: Record<string, unknown>, path: readonly PropertyKey[]): boolean {
  const parent = valueAt(root, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (!parent || typeof parent !== 'object') return false;
  if (Array.isArray(parent) && typeof last === 'number') {
    if (last >= parent.length) return false;
    parent[last] = DROPPED;
    return true;
  }
  if (!Object.hasOwn(parent, last as string)) return false;
  delete (parent as Record<PropertyKey, unknown>)[last as string];
  return true;
}

/**
 * Drops what one issue points at, and only that: an unknown key; a list entry as a whole (a
 * budget with a bad field is refused, not weakened, and the others stay); else the deepest
 * value that exists on the issue's path.
 */
function dropInvalid(raw: Record<string, unknown>, origins: Record<string, string>, issue: Issue, report: (p: ConfigProblem) => void): void {
  const path = issue.path;
  const key = String(path[0] ?? '');
  const inList = Array.isArray(raw[key]) && typeof path[1] === 'number';
  if (issue.code === 'unrecognized_keys' && issue.keys?.length && !inList) {
    for (const k of issue.keys) {
      const at = [...path, k];
      report({ source: sourceOf(origins, at), message: path.length ? 'unknown key' : 'is not a known setting' });
      if (!deleteAt(raw, at)) delete raw[key];
      if (path.length === 0) delete origins[k];
    }
    return;
  }
  const got = valueAt(raw, path);
  const shown = SECRET_KEYS.has(key) ? 'a value not shown, it may hold a secret' : got === undefined ? 'nothing' : JSON.stringify(got);
  const list = raw[key];
  if (inList && Array.isArray(list) && typeof path[1] === 'number') {
    const entry = list[path[1]] as { name?: unknown } | undefined;
    const what = key === 'budgets' ? `the budget${typeof entry?.name === 'string' ? ` "${entry.name}"` : ''} is refused; the others stay in force` : `this ${key} entry is left out`;
    const message = issue.code === 'unrecognized_keys' ? `unknown key${issue.keys!.length > 1 ? 's' : ''} ${issue.keys!.join(', ')}` : `${issue.message} (got ${shown})`;
    report({ source: sourceOf(origins, path), message: `${message}; ${what}` });
    list[path[1]] = DROPPED;
    return;
  }
  report({ source: sourceOf(origins, path), message: `${issue.message} (got ${shown})` });
  for (let depth = path.length; depth >= 1; depth--) if (deleteAt(raw, path.slice(0, depth))) return;
  delete raw[key];
  delete origins[key];
}

/** What the config names that the machine does not have: said at start, the setting kept. */
function environmentWarnings(config: GovernorConfig): string[] {
  const out: string[] = [];
  if (config.audit_file) {
    const dir = dirname(config.audit_file);
    if (!existsSync(dir)) out.push(`audit_file: the folder ${dir} does not exist; audit events wait in memory (and are counted) until it does`);
  }
  return out;
}

/** The YAML parser, loaded only for a YAML config file. */
function parseYaml(text: string): unknown {
  return (require('yaml') as typeof import('yaml')).parse(text);
}
