import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load';
import { backtrackingRisk } from '../../src/config/safe-regex';

/**
 * A bad value is named by its full path, once, and dropped alone: the rest of the config (the
 * file's other keys and every environment variable) stays in force. One row per setting and bad
 * value; each row also carries good settings that must survive it.
 */
function withFile(content: object, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(content));
  return loadConfig({ LLM_GOVERNOR_CONFIG: file, ...env });
}

const survivors = { LLM_GOVERNOR_DAILY_BUDGET_USD: '0.5', LLM_GOVERNOR_FAIL_CLOSED: 'true', LLM_GOVERNOR_MAX_RETRIES: '3' };
const goodFile = { budgets: [{ name: 'keep', limit_usd: 1 }], audit_queue_size: 500 };

describe('a bad value in the config file is dropped alone, named by its full path', () => {
  const rows: Array<[string, object, RegExp]> = [
    ['a negative stale-answer window', { cache_serve_stale_seconds: -1 }, /cache_serve_stale_seconds: expected a number of seconds/],
    ['a typo in a price override', { prices: { 'gpt-4o-mini': { inptu: 0.15, output: 0.6 } } }, /prices\.gpt-4o-mini\.inptu: unknown key/],
    ['a negative price', { prices: { 'gpt-4o-mini': { input: -1 } } }, /prices\.gpt-4o-mini\.input:/],
    [
      'a zero budget window',
      {
        budgets: [
          { name: 'keep', limit_usd: 1 },
          { name: 'bad', limit_usd: 1, window: '0m' },
        ],
      },
      /budgets\[1\]\.window: must be a positive duration.*"bad" is refused/,
    ],
    [
      'a window of 000d',
      {
        budgets: [
          { name: 'keep', limit_usd: 1 },
          { name: 'bad', limit_usd: 1, window: '000d' },
        ],
      },
      /budgets\[1\]\.window: must be a positive duration/,
    ],
    [
      'a threshold above the limit',
      {
        budgets: [
          { name: 'keep', limit_usd: 1 },
          { name: 'bad', limit_usd: 1, thresholds: [1.5] },
        ],
      },
      /budgets\[1\]\.thresholds\[0\]: expected fractions of the limit, at most 1/,
    ],
    [
      'an unknown key in a budget',
      {
        budgets: [
          { name: 'keep', limit_usd: 1 },
          { name: 'bad', limit_usd: 1, thresholdz: [0.5] },
        ],
      },
      /budgets\[1\]: unknown key thresholdz; the budget "bad" is refused/,
    ],
    [
      'a forecast_alert of 0',
      {
        budgets: [
          { name: 'keep', limit_usd: 1, forecast_alert: 0.9 },
          { name: 'bad', limit_usd: 1, forecast_alert: 0 },
        ],
      },
      /budgets\[1\]\.forecast_alert: expected a fraction of the limit, above 0/,
    ],
    [
      'a forecast_alert above 1',
      {
        budgets: [
          { name: 'keep', limit_usd: 1 },
          { name: 'bad', limit_usd: 1, forecast_alert: 1.5 },
        ],
      },
      /budgets\[1\]\.forecast_alert: expected a fraction of the limit, at most 1/,
    ],
    ['a Redis URL with port 99999', { redis_url: 'redis://cache:99999' }, /redis_url: expected a redis:\/\/ or rediss:\/\/ URL that parses/],
    ['a Redis URL that does not parse', { redis_url: 'redis://' }, /redis_url:/],
    ['a backup base URL that does not parse', { fallbacks: [{ primary: { provider: 'openai' }, backups: [{ provider: 'x_ai', base_url: 'https://' }] }] }, /fallbacks\[0\]\.backups\[0\]\.base_url:/],
    ['a syslog port out of range', { audit_syslog: 'tcp://siem:70000' }, /audit_syslog: expected a port up to 65535/],
    ['a backtracking moderation rule', { moderation_rules: [{ name: 'evil', pattern: '^(a+)+$' }] }, /moderation_rules\[0\]\.pattern: can backtrack catastrophically/],
    ['an unknown top-level key', { budgetz: [] }, /budgetz: is not a known setting/],
    ['a string for a number', { breaker_failures: 'many' }, /breaker_failures:/],
    ['a Redis command timeout of 0', { redis_command_timeout_ms: 0 }, /redis_command_timeout_ms:/],
    ['a wire label limit of 0', { wire_label_limit: 0 }, /wire_label_limit:/],
  ];
  for (const [name, bad, message] of rows) {
    it(name, () => {
      const merged: Record<string, unknown> = { ...goodFile, ...bad };
      const r = withFile(merged, survivors);
      const lines = r.problems.map((p) => `${p.source}: ${p.message}`);
      expect(
        lines.filter((l) => message.test(l)),
        lines.join('\n'),
      ).toHaveLength(1);
      expect(lines).toHaveLength(1);
      // Everything else stays in force: the env, and the file's other keys.
      expect(r.config.daily_budget_usd).toBe(0.5);
      expect(r.config.fail_closed).toBe(true);
      expect(r.config.max_retries).toBe(3);
      expect(r.config.audit_queue_size).toBe(500);
      expect(r.config.budgets.map((b) => b.name)).toContain('keep');
      expect(r.config.budgets.map((b) => b.name)).not.toContain('bad');
    });
  }

  it('a typo keeps the rest of the same price override', () => {
    const r = withFile({ prices: { 'gpt-4o-mini': { inptu: 0.15, output: 0.6 } } });
    expect(r.config.prices['gpt-4o-mini']).toEqual({ output: 0.6 });
  });
});

describe('a bad environment value is dropped alone, named', () => {
  const rows: Array<[string, string, RegExp]> = [
    ['LLM_GOVERNOR_DAILY_BUDGET_USD', 'lots', /^LLM_GOVERNOR_DAILY_BUDGET_USD: /],
    ['LLM_GOVERNOR_ALERT_THRESHOLD_USD', '0x10', /^LLM_GOVERNOR_ALERT_THRESHOLD_USD: /],
    ['LLM_GOVERNOR_ALERT_THRESHOLD_USD', '5', /^LLM_GOVERNOR_ALERT_THRESHOLD_USD: expected at most the daily budget/],
    ['LLM_GOVERNOR_REDIS_URL', 'redis://h:99999', /^LLM_GOVERNOR_REDIS_URL: .*not shown/],
    ['LLM_GOVERNOR_MAX_RETRIES', 'plenty', /^LLM_GOVERNOR_MAX_RETRIES: /],
    ['LLM_GOVERNOR_TIMEOUT_SECONDS', '0', /^LLM_GOVERNOR_TIMEOUT_SECONDS: /],
    ['LLM_GOVERNOR_AUDIT_SYSLOG', 'tcp://h:123456', /^LLM_GOVERNOR_AUDIT_SYSLOG: /],
    ['LLM_GOVERNOR_BREAKER_RESET_SECONDS', '-1', /^LLM_GOVERNOR_BREAKER_RESET_SECONDS: /],
    ['LLM_GOVERNOR_CACHE_SERVE_STALE_SECONDS', 'an hour', /^LLM_GOVERNOR_CACHE_SERVE_STALE_SECONDS: /],
  ];
  for (const [name, value, message] of rows) {
    it(`${name}=${value}`, () => {
      const env: Record<string, string> = { LLM_GOVERNOR_DAILY_BUDGET_USD: '1', LLM_GOVERNOR_FAIL_CLOSED: 'true', LLM_GOVERNOR_STORE_FAILURE_MODE: 'closed', [name]: value };
      const r = loadConfig(env);
      const lines = r.problems.map((p) => `${p.source}: ${p.message}`);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(r.config.fail_closed).toBe(true);
      expect(r.config.store_failure_mode).toBe('closed');
      if (name !== 'LLM_GOVERNOR_DAILY_BUDGET_USD') expect(r.config.daily_budget_usd).toBe(1);
    });
  }

  it('an audit file in a folder that does not exist: kept, and said at start', () => {
    const r = loadConfig({ LLM_GOVERNOR_AUDIT_FILE: '/nonexistent-dir-for-test/audit.jsonl' });
    expect(r.problems).toEqual([]);
    expect(r.config.audit_file).toBe('/nonexistent-dir-for-test/audit.jsonl');
    expect(r.warnings?.join('\n')).toMatch(/audit_file: the folder \/nonexistent-dir-for-test does not exist/);
  });
});

describe('backtrackingRisk', () => {
  it.each([
    ['^(a+)+$', true],
    ['(a*)*b', true],
    ['(x+x+)+y', true],
    ['(a|aa)+$', true],
    ['(.*a){3,}', true],
    ['((ab)*)+', true],
    ['\\b(ignore|disregard) (all|previous) instructions\\b', false],
    ['[a-z]+@[a-z]+\\.com', false],
    ['(ab)+', false],
    ['\\d{3}-\\d{4}', false],
    ['(a+)?', false],
    ['\\(a+\\)+', false],
  ])('%s → risky %s', (pattern, risky) => {
    expect(!!backtrackingRisk(pattern)).toBe(risky);
  });
});
