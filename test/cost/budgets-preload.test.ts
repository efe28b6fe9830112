import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateInputTokens } from '../../src/cost/tokens';
import { PriceTable } from '../../src/cost/prices';
import { worstCaseCost } from '../../src/cost/pricing';
import { operationForPath } from '../../src/operations';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { parsePrometheusText, type Sample } from '../../src/util/prometheus-text';
import { startOtlpReceiver, type TestSpan } from '../helpers/otlp';
import { startReplay } from '../helpers/replay';
import { freePort, REPO, runApp, telemetryEnv } from '../helpers/run-app';

/**
 * Cost and budgets through the preload, in an unmodified app configured only by environment and
 * a config file: exact cost on the recorded exchange, budgets that hold under concurrency, every
 * action, per-tenant budgets, soft thresholds, and reservations released on every exit path.
 */
const APP = resolve(REPO, 'test/fixtures/budget-app.cjs');
const SEMANTICS_APP = resolve(REPO, 'test/fixtures/semantics-app.cjs');
const MESSAGES = [{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }];
const PICO = 1e12;

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ seed: 21 });
});
afterAll(async () => sim?.close());

function configFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lg-budget-'));
  const file = join(dir, 'llm-governor.yaml');
  writeFileSync(file, yaml);
  return file;
}

/** Worst case of one budget-app chat call, in pUSD, as the governor estimates it. */
function worstCase(model: string, maxTokens: number): number {
  const op = operationForPath('/chat/completions')!;
  const body = { model, messages: MESSAGES, max_tokens: maxTokens };
  const price = PriceTable.bundled().lookup('openai', model)!.price;
  return worstCaseCost(price, { operation: 'chat', inputTokens: estimateInputTokens(op, body), maxOutputTokens: maxTokens });
}

interface Run {
  summary: any;
  stderr: string;
  spans: TestSpan[];
  samples: Sample[];
  code: number | null;
}

async function run(env: Record<string, string>, script = APP): Promise<Run> {
  const otlp = await startOtlpReceiver();
  const port = await freePort();
  let scrape = '';
  try {
    const r = await runApp({
      script,
      preload: 'require',
      env: { SIM_URL: sim.url, WAIT_FOR_SCRAPE: '1', ...telemetryEnv(otlp.url, port), ...env },
      onReady: async (child) => {
        // Let settlements (async) land before scraping.
        await new Promise((res) => setTimeout(res, 200));
        scrape = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        child.stdin!.end();
      },
    });
    const line = r.stdout.split('\n').find((l) => l.startsWith('{"ok"'));
    return { summary: line ? JSON.parse(line) : undefined, stderr: r.stderr, spans: [...otlp.spans], samples: parsePrometheusText(scrape), code: r.code };
  } finally {
    await otlp.close();
  }
}

const metric = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
const chatRequests = () => sim.requests().filter((r) => r.path.endsWith('/chat/completions'));

describe('cost', () => {
  it('is exact for the recorded gpt-4o-mini exchange: 22 × $0.15/1M + 3 × $0.60/1M, on the span and in llm_governor_cost_total', async () => {
    const replay = await startReplay('openai-chat-completions-adds-genai-conventions.json');
    try {
      const r = await run({ SIM_URL: replay.baseURL.replace(/\/v1$/, '') });
      expect(r.code).toBe(0);
      expect(r.summary.ok).toBe(1);
      const [span] = r.spans;
      expect(span.attributes['gen_ai.usage.input_tokens']).toBe(22);
      expect(span.attributes['gen_ai.usage.output_tokens']).toBe(3);
      const expected = (22 * 150_000 + 3 * 600_000) / PICO; // 0.0000051 exactly, as the nearest double
      expect(span.attributes['llm_governor.cost.usd']).toBe(expected);
      expect(span.attributes['llm_governor.cost.usd']).toBe(0.0000051);
      expect(span.attributes['llm_governor.cost.estimated']).toBeUndefined();
      expect(metric(r.samples, 'llm_governor_cost_total', { gen_ai_response_model: 'gpt-4o-mini-2024-07-18', gen_ai_provider_name: 'openai' })).toBe(0.0000051);
    } finally {
      await replay.close();
    }
  });

  it('prices streams from their real usage, and every provider', async () => {
    const r = await run({ CALLS: '1', CASES: 'stream,azureChat,xaiChat,embeddings,images', XAI_API_ENDPOINT: `${sim.url}/xai/v1` }, SEMANTICS_APP);
    expect(r.code).toBe(0);
    for (const s of r.spans) {
      expect(s.attributes['llm_governor.cost.usd'], s.name).toBeGreaterThan(0);
      expect(s.attributes['llm_governor.cost.estimated'], s.name).toBeUndefined();
    }
    const providers = new Set(r.samples.filter((s) => s.name === 'llm_governor_cost_total').map((s) => s.labels.gen_ai_provider_name));
    expect([...providers].sort()).toEqual(['azure.ai.openai', 'openai', 'x_ai']);
  });
});

describe('budgets hold under concurrency (one process)', () => {
  it('200 concurrent calls against a budget that fits 20: spend within it, at least 19 served, the rest never sent', async () => {
    const w = worstCase('gpt-4o-mini', 100);
    const limitUsd = (20.5 * w) / PICO;
    sim.reset();
    const r = await run({
      CALLS: '200',
      MAX_TOKENS: '100',
      LLM_GOVERNOR_CONFIG: configFile(`budgets:\n  - name: tight\n    limit_usd: ${limitUsd}\n    window: day\n    thresholds: []\n`),
    });
    expect(r.code).toBe(0);
    const { ok, rejected, other, allApiErrors, statuses } = r.summary;
    expect(other).toBe(0);
    expect(ok).toBeGreaterThanOrEqual(19);
    expect(ok + rejected).toBe(200);
    expect(allApiErrors).toBe(true);
    expect(statuses).toEqual({ 429: rejected });
    expect(chatRequests()).toHaveLength(ok); // rejected calls sent nothing upstream
    const spent = r.spans.reduce((a, s) => a + ((s.attributes['llm_governor.cost.usd'] as number) ?? 0), 0);
    expect(spent).toBeLessThanOrEqual(limitUsd);
    expect(metric(r.samples, 'llm_governor_budget_spent', { llm_governor_budget: 'tight' })).toBeLessThanOrEqual(limitUsd);
    expect(metric(r.samples, 'llm_governor_budget_reserved', { llm_governor_budget: 'tight' })).toBe(0);
    expect(metric(r.samples, 'llm_governor_requests_rejected_total', { reason: 'budget' })).toBe(rejected);
    expect(metric(r.samples, 'llm_governor_budget_limit', { llm_governor_budget: 'tight' })).toBeCloseTo(limitUsd, 15);
    const blocked = r.spans.find((s) => s.attributes['error.type'] === 'budget_exceeded')!;
    expect(blocked.status.code).toBe(2);
    expect(r.summary.messages[0]).toMatch(/budget "tight" would be exceeded: limit \$[\d.e-]+, spent/);
  });
});

describe('budget actions through the environment and the config file', () => {
  it('LLM_GOVERNOR_DAILY_BUDGET_USD blocks with a BudgetExceededError the app sees as an APIError 429', async () => {
    sim.reset();
    const r = await run({ CALLS: '3', SEQUENTIAL: '1', MAX_TOKENS: '50', OPENAI_DAILY_BUDGET_USD: String((1.5 * worstCase('gpt-4o-mini', 50)) / PICO) });
    expect(r.summary.ok).toBeGreaterThanOrEqual(1);
    expect(r.summary.codes.budget_exceeded).toBeGreaterThanOrEqual(1);
    expect(r.summary.statuses['429']).toBe(r.summary.rejected);
    expect(chatRequests()).toHaveLength(r.summary.ok);
  });

  it('cap_tokens lowers the output limit so the call fits', async () => {
    sim.reset();
    const limitUsd = (1.2 * worstCase('gpt-4o-mini', 200)) / PICO;
    const r = await run({ CALLS: '1', MAX_TOKENS: '4000', LLM_GOVERNOR_CONFIG: configFile(`budgets:\n  - name: capped\n    limit_usd: ${limitUsd}\n    action: cap_tokens\n`) });
    expect(r.summary.ok).toBe(1);
    const sent = chatRequests()[0].body as { max_tokens: number };
    expect(sent.max_tokens).toBeLessThan(4000);
    expect(sent.max_tokens).toBeGreaterThanOrEqual(200);
    expect(r.spans[0].attributes['llm_governor.budget.actions']).toEqual(['capped:cap_tokens']);
  });

  it('cap_tokens still blocks when not even a minimal reply fits', async () => {
    sim.reset();
    const r = await run({ CALLS: '1', MAX_TOKENS: '4000', LLM_GOVERNOR_CONFIG: configFile(`budgets:\n  - name: capped\n    limit_usd: 0.000001\n    action: cap_tokens\n`) });
    expect(r.summary.rejected).toBe(1);
    expect(chatRequests()).toHaveLength(0);
  });

  it('downgrade sends the call to the cheaper model; the span shows both', async () => {
    sim.reset();
    const limitUsd = (1.5 * worstCase('gpt-4o-mini', 100)) / PICO; // fits gpt-4o-mini, not gpt-4o
    const r = await run({
      CALLS: '1',
      MODEL: 'gpt-4o',
      MAX_TOKENS: '100',
      LLM_GOVERNOR_CONFIG: configFile(
        `budgets:\n  - name: gpt4o-monthly\n    limit_usd: ${limitUsd}\n    window: month\n    match: { provider: openai, model: "gpt-4o*", operation: chat }\n    action: { downgrade: gpt-4o-mini }\n`,
      ),
    });
    expect(r.summary.ok).toBe(1);
    expect((chatRequests()[0].body as { model: string }).model).toBe('gpt-4o-mini');
    const span = r.spans[0];
    expect(span.attributes['gen_ai.request.model']).toBe('gpt-4o');
    expect(span.attributes['llm_governor.served.model']).toBe('gpt-4o-mini');
    expect(span.attributes['gen_ai.response.model']).toMatch(/^gpt-4o-mini/);
    expect(span.attributes['llm_governor.budget.actions']).toEqual(['gpt4o-monthly:downgrade']);
    expect(span.attributes['llm_governor.price.model']).toBe('gpt-4o-mini-2024-07-18');
  });

  it('alert_only lets calls through and counts them', async () => {
    sim.reset();
    const r = await run({ CALLS: '3', SEQUENTIAL: '1', LLM_GOVERNOR_CONFIG: configFile(`budgets:\n  - name: watch\n    limit_usd: 0.0000001\n    action: alert_only\n`) });
    expect(r.summary.ok).toBe(3);
    expect(chatRequests()).toHaveLength(3);
    expect(metric(r.samples, 'llm_governor_budget_exceeded_allowed_total', { llm_governor_budget: 'watch' })).toBe(3);
    expect(metric(r.samples, 'llm_governor_budget_utilization', { llm_governor_budget: 'watch' })).toBeGreaterThan(1);
  });

  it('per: tenant keeps one budget per tenant (tenant from baggage)', async () => {
    sim.reset();
    const limitUsd = (2.5 * worstCase('gpt-4o-mini', 60)) / PICO; // two calls per tenant
    const r = await run({
      CALLS: '12',
      SEQUENTIAL: '1',
      MAX_TOKENS: '60',
      TENANTS: 'acme,globex,initech',
      LLM_GOVERNOR_CONFIG: configFile(`budgets:\n  - name: per-tenant\n    limit_usd: ${limitUsd}\n    per: tenant\n`),
    });
    expect(r.summary.ok).toBeGreaterThanOrEqual(6);
    expect(r.summary.rejected).toBe(12 - r.summary.ok);
    const served = r.spans.filter((s) => s.status.code !== 2).map((s) => s.attributes['llm_governor.tenant']);
    const perTenant = (t: string) => served.filter((x) => x === t).length;
    expect(perTenant('acme')).toBe(perTenant('globex'));
    expect(perTenant('globex')).toBe(perTenant('initech'));
    for (const t of ['acme', 'globex', 'initech']) {
      expect(metric(r.samples, 'llm_governor_budget_spent', { llm_governor_budget: 'per-tenant', llm_governor_budget_key: t })).toBeLessThanOrEqual(limitUsd);
    }
    expect(metric(r.samples, 'llm_governor_cost_total', { llm_governor_tenant: 'acme' })).toBeGreaterThan(0);
  });

  it('a soft threshold is crossed once per window: metric and one log line', async () => {
    sim.reset();
    const limitUsd = (4 * worstCase('gpt-4o-mini', 30)) / PICO;
    const r = await run({
      CALLS: '6',
      SEQUENTIAL: '1',
      MAX_TOKENS: '30',
      LLM_GOVERNOR_CONFIG: configFile(`budgets:\n  - name: soft\n    limit_usd: ${limitUsd}\n    thresholds: [0.1, 0.2]\n    action: alert_only\n`),
    });
    expect(r.summary.ok).toBe(6);
    expect(metric(r.samples, 'llm_governor_budget_threshold_crossings_total', { llm_governor_budget: 'soft', threshold: '0.1' })).toBe(1);
    expect(metric(r.samples, 'llm_governor_budget_threshold_crossings_total', { llm_governor_budget: 'soft', threshold: '0.2' })).toBe(1);
    expect(r.stderr.match(/budget "soft" crossed 10%/g)).toHaveLength(1);
  });

  it('names a bad budget in the config file and keeps the good ones', async () => {
    const r = await run({ CALLS: '1', LLM_GOVERNOR_CONFIG: configFile(`budgets:\n  - name: good\n    limit_usd: 10\n  - name: bad\n    limit_usd: 5\n    window: fortnight\n`) });
    expect(r.summary.ok).toBe(1);
    expect(r.stderr).toMatch(/budgets\[1\]\.window: expected day, week, month or a rolling duration/);
    expect(metric(r.samples, 'llm_governor_budget_limit', { llm_governor_budget: 'good' })).toBe(10);
    expect(r.samples.some((s) => s.labels.llm_governor_budget === 'bad')).toBe(false);
  });
});

describe('reservations are released on every exit path', () => {
  it('abort, break, HTTP error, connection error, truncated stream: nothing stays reserved, what was generated is charged', async () => {
    const r = await run(
      {
        CASES: 'streamBreak,streamAbort,httpError,connectionError,streamTruncated,abortBeforeResponse,chat',
        LLM_GOVERNOR_DAILY_BUDGET_USD: '5',
      },
      SEMANTICS_APP,
    );
    expect(r.code).toBe(0);
    expect(metric(r.samples, 'llm_governor_budget_reserved', { llm_governor_budget: 'daily' })).toBe(0);
    const byOutcome = (o: string) => r.spans.find((s) => s.attributes['llm_governor.stream.outcome'] === o)!;
    expect(byOutcome('broken').attributes['llm_governor.cost.usd']).toBeGreaterThan(0);
    expect(byOutcome('broken').attributes['llm_governor.cost.estimated']).toBe(true);
    const failed = r.spans.filter((s) => s.status.code === 2 && !s.attributes['llm_governor.stream']);
    for (const s of failed) expect(s.attributes['llm_governor.cost.usd'], s.name).toBeUndefined();
    const spentUsd = metric(r.samples, 'llm_governor_budget_spent', { llm_governor_budget: 'daily' });
    const costs = r.spans.reduce((a, s) => a + ((s.attributes['llm_governor.cost.usd'] as number) ?? 0), 0);
    expect(spentUsd).toBeCloseTo(costs, 12);
  });
});
