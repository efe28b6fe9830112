import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { runApp } from '../helpers/run-app';

/**
 * Start-up loads only what the config uses: with the defaults, an app under the preload never
 * loads ioredis (no Redis URL), nor the tokenizer (the provider reports usage; nothing counts
 * tokens before a call), and our own config loader never loads a YAML parser for a JSON file.
 * (The OpenTelemetry SDK's own configuration still loads `yaml`.)
 */
const APP = `const { OpenAI } = require('openai');
const client = new OpenAI({ apiKey: 'sk-test-footprint-0123456789', baseURL: process.env.SIM_URL + '/v1' });
client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }).then(() => setTimeout(() => {
const count = (part) => Object.keys(require.cache).filter((k) => k.includes(part)).length;
console.log(JSON.stringify({ ioredis: count('node_modules/ioredis/'), tokenizer: count('node_modules/gpt-tokenizer/') > 0 }));
}, 200));`;

const QUIET = { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' };

async function footprint(env: Record<string, string>): Promise<{ ioredis: number; tokenizer: boolean }> {
  const dir = mkdtempSync(join(tmpdir(), 'footprint-'));
  const script = join(dir, 'app.cjs');
  writeFileSync(script, APP);
  const r = await runApp({ script, preload: 'require', env: { SIM_URL: sim.url, NODE_PATH: join(__dirname, '../../node_modules'), ...QUIET, ...env } });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim());
}

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ seed: 3 });
});
afterAll(async () => sim?.close());

describe('start-up footprint', () => {
  it('no ioredis without a Redis URL, even with budgets and a rate limit, after a call; the tokenizer loaded at start-up for the budget', async () => {
    expect(await footprint({ LLM_GOVERNOR_DAILY_BUDGET_USD: '5', LLM_GOVERNOR_RATE_LIMIT_RPM: '100' })).toEqual({ ioredis: 0, tokenizer: true });
  });

  it('the defaults load no tokenizer: the provider reported usage, and nothing counts tokens before a call', async () => {
    expect(await footprint({})).toEqual({ ioredis: 0, tokenizer: false });
  });

  it('a TPM limit alone loads the tokenizer at start-up (it counts every request)', async () => {
    expect((await footprint({ LLM_GOVERNOR_RATE_LIMIT_TPM: '100000' })).tokenizer).toBe(true);
  });
});
