import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/run-app';

const CLI = resolve(REPO, 'dist/cli/main.js');
const cli = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });

describe('llm-governor check-config', () => {
  it('prints the effective settings and where each came from', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-cli-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'budgets:\n  - name: daily-total\n    limit_usd: 100\n');
    const r = cli(['check-config'], { LLM_GOVERNOR_CONFIG: file, OPENAI_DAILY_BUDGET_USD: '25' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`file: ${file}`);
    expect(r.stdout).toMatch(/daily_budget_usd\s+25\s+OPENAI_DAILY_BUDGET_USD/);
    expect(r.stdout).toContain('daily-total');
    expect(r.stdout).toContain('OK');
  });

  it('exits 1 and names the bad variable and what is expected', () => {
    const r = cli(['check-config'], { LLM_GOVERNOR_STORE_FAILURE_MODE: 'sideways' });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('LLM_GOVERNOR_STORE_FAILURE_MODE: expected open or closed (got "sideways")');
  });

  it('never prints a Redis password', () => {
    const r = cli(['check-config'], { LLM_GOVERNOR_REDIS_URL: 'redis://user:s3cret-pw@127.0.0.1:6379', LLM_GOVERNOR_USER_HASH_SALT: 'pepper-123' });
    expect(r.stdout).not.toContain('s3cret-pw');
    expect(r.stdout).not.toContain('pepper-123');
    expect(r.stdout).toContain('redis://user:***@127.0.0.1:6379');
    const bad = cli(['check-config'], { LLM_GOVERNOR_REDIS_URL: 'http://user:s3cret-pw@host' });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('LLM_GOVERNOR_REDIS_URL: expected a redis:// or rediss:// URL');
    expect(bad.stdout).not.toContain('s3cret-pw');
  });

  it('explains its commands, and refuses unknown ones', () => {
    expect(cli(['help']).stdout).toContain('check-config');
    const bad = cli(['frobnicate']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("unknown command 'frobnicate'");
  });
});
