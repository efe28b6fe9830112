import { createHash } from 'node:crypto';

/**
 * The fleet config document, as it sits in Redis under one key: the settings pushed by
 * `llm-governor config push`, with the version Redis gave it (one counter, incremented atomically by
 * each push), who pushed it from where, and a digest of the settings.
 */
export interface FleetDoc {
  version: number;
  origin: string;
  pushedAt: string;
  sha256: string;
  settings: Record<string, unknown>;
}

/** Where the fleet config lives, in the namespace the budget store uses. */
export function fleetKeys(namespace = 'llm-governor') {
  return { doc: `{${namespace}}:config`, version: `{${namespace}}:config:version`, channel: `${namespace}:config` };
}

/** The settings' digest: the same settings give the same digest, whoever pushes them. */
export function settingsDigest(settings: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(settings)).digest('hex');
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * The document's body after its version, as the push script stores it: the script writes
 * `{"version":N,` and then this (the settings are never re-encoded by Redis).
 */
export function fleetDocTail(settings: Record<string, unknown>, origin: string, pushedAt: Date): string {
  const body = JSON.stringify({ origin, pushed_at: pushedAt.toISOString(), sha256: settingsDigest(settings), settings });
  return body.slice(1);
}

/** The document read back from Redis, or why it cannot be one. */
export function parseFleetDoc(text: string): FleetDoc | { error: string } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { error: `the fleet config is not JSON (${(err as Error).message})` };
  }
  const d = data as Record<string, unknown> | null;
  if (!d || typeof d !== 'object' || Array.isArray(d)) return { error: 'the fleet config is not a JSON object' };
  if (!Number.isSafeInteger(d.version) || (d.version as number) < 1) return { error: 'the fleet config has no version (expected a whole number above 0)' };
  const settings = d.settings;
  if (!settings || typeof settings !== 'object' || Array.isArray(settings)) return { error: `the fleet config version ${d.version} has no settings (expected a mapping of settings)` };
  return {
    version: d.version as number,
    origin: typeof d.origin === 'string' ? d.origin : 'unknown',
    pushedAt: typeof d.pushed_at === 'string' ? d.pushed_at : '',
    sha256: typeof d.sha256 === 'string' ? d.sha256 : settingsDigest(settings as Record<string, unknown>),
    settings: settings as Record<string, unknown>,
  };
}

/**
 * INCR the version, store the document under it, and publish the version: one script, so two
 * pushes at once get two versions and the document always carries the version it was given.
 */
export const PUSH_SCRIPT = `
local v = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], '{"version":' .. v .. ',' .. ARGV[1])
redis.call('PUBLISH', ARGV[2], tostring(v))
return v
`;
