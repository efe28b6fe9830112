import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { renderBudgets, rowsFromScrape } from '../../src/cli/budgets';
import { BudgetExceededError, BudgetUnavailableError, governorError } from '../../src/errors';

describe('governor errors', () => {
  const client = new OpenAI({ apiKey: 'sk-x', baseURL: 'http://127.0.0.1:9/v1' });
  it('are real subclasses of the client SDK’s APIError, with status and code', () => {
    const e = governorError(client, 'budget_exceeded', 429, 'llm-governor: budget "d" would be exceeded', { budget: 'd' });
    expect(e).toBeInstanceOf(OpenAI.APIError);
    expect(e).toBeInstanceOf(BudgetExceededError);
    expect(e).not.toBeInstanceOf(BudgetUnavailableError);
    expect(e).toMatchObject({ status: 429, code: 'budget_exceeded', details: { budget: 'd' } });
    expect(e.constructor.name).toBe('BudgetExceededError');
    expect(e.message).toBe('429 llm-governor: budget "d" would be exceeded');
    const u = governorError(client, 'budget_unavailable', 503, 'store down', {});
    expect(u).toBeInstanceOf(OpenAI.APIError);
    expect(u).toBeInstanceOf(BudgetUnavailableError);
    expect(u).toMatchObject({ status: 503, code: 'budget_unavailable' });
  });
  it('fall back to a plain Error subclass without an SDK client', () => {
    const e = governorError({}, 'budget_exceeded', 429, 'x', {});
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(BudgetExceededError);
  });
});

describe('llm-governor budgets (from /metrics)', () => {
  it('reads the budget gauges into rows and renders them', () => {
    const text = [
      'llm_governor_budget_limit{llm_governor_budget="daily"} 10',
      'llm_governor_budget_spent{llm_governor_budget="daily"} 2.5',
      'llm_governor_budget_reserved{llm_governor_budget="daily"} 0.1',
      'llm_governor_budget_window_remaining{llm_governor_budget="daily"} 3600',
      'llm_governor_budget_limit{llm_governor_budget="t",llm_governor_budget_key="acme"} 5',
      'llm_governor_budget_spent{llm_governor_budget="t",llm_governor_budget_key="acme"} 1',
    ].join('\n');
    const rows = rowsFromScrape(text, Date.parse('2026-11-23T10:00:00Z'));
    expect(rows).toEqual([
      { budget: 'daily', key: undefined, limitUsd: 10, spentUsd: 2.5, reservedUsd: 0.1, resetsAt: '2026-11-23T11:00:00.000Z' },
      { budget: 't', key: 'acme', limitUsd: 5, spentUsd: 1, reservedUsd: 0 },
    ]);
    const out = renderBudgets(rows);
    expect(out).toContain('daily');
    expect(out).toContain('25.0%');
    expect(out).toContain('acme');
  });

  it('shows the projection and when the limit would be reached', () => {
    const now = Date.parse('2026-11-23T10:00:00Z');
    const text = [
      'llm_governor_budget_limit{llm_governor_budget="daily"} 10',
      'llm_governor_budget_spent{llm_governor_budget="daily"} 5',
      'llm_governor_budget_forecast_usd{llm_governor_budget="daily"} 12',
      'llm_governor_budget_exhaustion_seconds{llm_governor_budget="daily"} 7200',
      'llm_governor_budget_limit{llm_governor_budget="slow"} 10',
      'llm_governor_budget_spent{llm_governor_budget="slow"} 1',
      'llm_governor_budget_forecast_usd{llm_governor_budget="slow"} 2.4',
    ].join('\n');
    const rows = rowsFromScrape(text, now);
    expect(rows).toMatchObject([
      { budget: 'daily', projectedUsd: 12, exhaustsAt: '2026-11-23T12:00:00.000Z' },
      { budget: 'slow', projectedUsd: 2.4, exhaustsAt: 'not this window' },
    ]);
    const out = renderBudgets(rows);
    expect(out).toMatch(/projected \$.*exhausted at/);
    expect(out).toMatch(/daily .* 12\.00 .*2026-11-23T12:00:00\.000Z/);
    expect(out).toMatch(/slow .* 2\.40 .*not this window/);
  });
});
