import { metrics } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import type { AuditKind } from '../../src/audit/ocsf';
import type { AuditRecorder } from '../../src/audit/trail';
import { loadConfig } from '../../src/config/load';
import { Governor } from '../../src/cost/governor';
import { MemoryBudgetStore } from '../../src/cost/stores/memory';
import { operationForPath } from '../../src/operations';

/** forecast_alert with an injected clock: when the projection crosses, once per window, and never in a window's first hour. */
const op = operationForPath('/chat/completions')!;
const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }], max_tokens: 50 };
const PICO = 1e12;

function governor(limitUsd: number, clock: { now: number }) {
  const kinds: AuditKind[] = [];
  const audit: AuditRecorder = { record: (kind) => void kinds.push(kind), wanted: true };
  const budgets = [{ name: 'fa', limit_usd: limitUsd, window: 'day', timezone: 'UTC', thresholds: [], forecast_alert: 0.9, action: 'alert_only' }];
  const config = { ...loadConfig({}).config, budgets: budgets as never };
  const g = new Governor(config, metrics.getMeter('test'), () => clock.now, new MemoryBudgetStore(), audit);
  return { g, kinds };
}

/** One call that spends `usd`. */
async function spend(g: Governor, usd: number): Promise<void> {
  const a = await g.admit({ op, provider: 'openai', model: 'gpt-4o-mini', body, attribution: {} }, {});
  g.settle(a, { pico: Math.round(usd * PICO), estimated: false });
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

const crossings = (kinds: AuditKind[]) => kinds.filter((k) => k === 'budget_forecast_crossed').length;

describe('forecast_alert', () => {
  it('crosses once when the projection reaches the fraction, not before, and again in the next window', async () => {
    const clock = { now: Date.parse('2026-12-03T06:00:00Z') }; // a quarter of the day
    const { g, kinds } = governor(1, clock);
    await spend(g, 0.2); // projects 0.80: under 90%
    expect(crossings(kinds)).toBe(0);
    await spend(g, 0.03); // 0.23 projects 0.92
    expect(crossings(kinds)).toBe(1);
    clock.now = Date.parse('2026-12-03T07:00:00Z');
    await spend(g, 0.1); // 0.33 projects 1.13: still the same window
    expect(crossings(kinds)).toBe(1);
    clock.now = Date.parse('2026-12-04T12:00:00Z'); // the next day, half over
    await spend(g, 0.5); // projects 1.00
    expect(crossings(kinds)).toBe(2);
    expect(kinds.filter((k) => k === 'budget_threshold_crossed')).toHaveLength(0);
  });

  it('is not checked in the first 1/24 of a window, however fast the first call spends', async () => {
    const clock = { now: Date.parse('2026-12-03T00:30:00Z') };
    const { g, kinds } = governor(1, clock);
    await spend(g, 0.1); // would project 4.80
    expect(crossings(kinds)).toBe(0);
    clock.now = Date.parse('2026-12-03T01:30:00Z');
    await spend(g, 0.001); // 0.101 projects 1.62
    expect(crossings(kinds)).toBe(1);
  });
});
