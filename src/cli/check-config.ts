import { loadConfig } from '../config/load';
import { maskUrl, redact } from '../redaction';
import { ENV_BINDINGS, ENV_CONFIG_FILE } from '../config/sources';

/**
 * `llm-governor check-config`: validates the environment and the config file, prints the
 * effective settings and where each came from. Exit code 1 when anything is invalid.
 */
export function checkConfig(env: NodeJS.ProcessEnv = process.env, write = (s: string) => process.stdout.write(s)): number {
  const { config, problems, origins, file } = loadConfig(env);
  write(`llm-governor configuration${file ? ` (file: ${file})` : ` (no ${ENV_CONFIG_FILE} file)`}\n\n`);
  const rows = Object.entries(config).map(([key, value]) => {
    const binding = ENV_BINDINGS.find((b) => b.key === key);
    return [key, JSON.stringify(redacted(key, value)), origins[key] ?? 'default', binding ? binding.env.join(' | ') : '(file only)'];
  });
  const header = ['setting', 'value', 'from', 'environment variables'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd() + '\n';
  write(line(header));
  write(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) write(line(r));
  if (problems.length) {
    write(`\n${problems.length} problem(s); the defaults are used for these:\n`);
    for (const p of problems) write(`  - ${redact(`${p.source}: ${p.message}`)}\n`);
    return 1;
  }
  write('\nOK\n');
  return 0;
}

/** Secrets never reach the terminal: URLs' passwords and query values, the user-hash salt, tokens. */
function redacted(key: string, value: unknown): unknown {
  if (key === 'user_hash_salt') return value ? '***' : value;
  if (typeof value === 'string') return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? maskUrl(value) : redact(value);
  if (value && typeof value === 'object') return JSON.parse(redact(JSON.stringify(value)));
  return value;
}
