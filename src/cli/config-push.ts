import { hostname, userInfo } from 'node:os';
import { fleetOrigin, loadConfig, readFileConfig } from '../config/load';
import { FleetConfigStore } from '../live-config/fleet-store';
import { settingsDigest } from '../live-config/fleet-doc';
import { RESTART_ONLY } from '../live-config/reload-plan';
import { maskUrl, redact } from '../redaction';

const USAGE = `usage: llm-governor config <push FILE | show | clear> [--redis-url URL]

  push FILE   validate FILE (JSON or YAML, the settings of LLM_GOVERNOR_CONFIG) and publish it as the
              fleet config: every process on the same Redis applies it within seconds
  show        the fleet config in force: version, who pushed it, its settings
  clear       withdraw the fleet config (a new, empty version): each process goes back to its
              file and environment
  --redis-url the Redis every process uses (default: LLM_GOVERNOR_REDIS_URL)
`;

type Write = (s: string) => void;

/** `llm-governor config …`: the fleet config in Redis. */
export async function configCommand(args: string[], env: NodeJS.ProcessEnv = process.env, out: Write = (s) => process.stdout.write(s), err: Write = (s) => process.stderr.write(s)): Promise<number> {
  const [sub, ...rest] = args;
  const urlAt = rest.indexOf('--redis-url');
  const url = urlAt >= 0 ? rest[urlAt + 1] : loadConfig(env).config.redis_url;
  const positional = urlAt >= 0 ? rest.filter((_, i) => i !== urlAt && i !== urlAt + 1) : rest;
  if (!sub || !['push', 'show', 'clear'].includes(sub) || (sub === 'push' && positional.length !== 1)) {
    err(USAGE);
    return 2;
  }
  if (!url) {
    err('llm-governor config: no Redis: set LLM_GOVERNOR_REDIS_URL or pass --redis-url (the fleet config lives in the Redis the processes share)\n');
    return 2;
  }
  let settings: Record<string, unknown> = {};
  if (sub === 'push') {
    const checked = validate(positional[0]);
    if ('problems' in checked) {
      err(`llm-governor config push: ${positional[0]} is not pushed:\n${checked.problems.map((p) => `  - ${p}`).join('\n')}\n`);
      return 1;
    }
    settings = checked.settings;
  }
  const store = new FleetConfigStore(url);
  try {
    if (sub === 'show') return show(await store.read(), out);
    const origin = `${safe(() => userInfo().username)}@${safe(() => hostname())}: ${sub === 'push' ? positional[0] : 'config clear'}`;
    const version = await store.push(settings, origin);
    const keys = Object.keys(settings);
    out(
      `pushed fleet config version ${version} (sha256 ${settingsDigest(settings).slice(0, 16)}; ${keys.length ? `settings: ${keys.join(', ')}` : 'no settings: each process uses its file and environment'}) to ${maskUrl(url)}\n`,
    );
    return 0;
  } catch (e) {
    err(`llm-governor config ${sub}: Redis at ${maskUrl(url)}: ${redact((e as Error)?.message ?? String(e))}\n`);
    return 1;
  } finally {
    await store.close();
  }
}

/** The file's settings, checked as a process would check them; or every reason it cannot be pushed. */
function validate(file: string): { settings: Record<string, unknown> } | { problems: string[] } {
  let settings: Record<string, unknown>;
  try {
    settings = readFileConfig(file);
  } catch (e) {
    return { problems: [`cannot be read: ${(e as Error).message}`] };
  }
  const problems: string[] = [];
  for (const key of Object.keys(settings)) {
    if ((RESTART_ONLY as readonly string[]).includes(key)) problems.push(`${key}: takes effect only when a process starts; set it in each process's environment or file`);
  }
  const origin = fleetOrigin(0);
  for (const p of loadConfig({}, { settings, version: 0, origin: file }).problems) problems.push(`${p.source.replace(origin, file)}: ${p.message}`);
  return problems.length ? { problems } : { settings };
}

function show(doc: Awaited<ReturnType<FleetConfigStore['read']>>, out: Write): number {
  if (!doc) {
    out('no fleet config: each process uses its file and environment\n');
    return 0;
  }
  if ('error' in doc) {
    out(`the fleet config cannot be used: ${doc.error}\n`);
    return 1;
  }
  const settings = { ...doc.settings };
  if ('user_hash_salt' in settings) settings.user_hash_salt = '(not shown)';
  out(`fleet config version ${doc.version}, pushed by ${doc.origin} at ${doc.pushedAt} (sha256 ${doc.sha256.slice(0, 16)})\n${redact(JSON.stringify(settings, null, 2))}\n`);
  return 0;
}

function safe(fn: () => string): string {
  try {
    return fn() || 'unknown';
  } catch {
    return 'unknown';
  }
}
