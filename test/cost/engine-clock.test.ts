import { metrics } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load';
import { Governor } from '../../src/cost/governor';
import { MemoryBudgetStore } from '../../src/cost/stores/memory';
import { operationForPath } from '../../src/instrumentation/operations';

/** The budget engine with an injected clock: calendar windows roll over, per-tenant budgets stay apart. */
const op = operationForPath('/chat/completions')!;
const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }], max_tokens: 50 };
const client = {};

function governor(budgets: object[], clock: { now: number }) {
  const config = { ...loadConfig({}).config, budgets: budgets as never };
  return new Governor(config, metrics.getMeter('test'), () => clock.now, new MemoryBudgetStore());
}

async function admitUntilBlocked(g: Governor, tenant?: string): Promise<number> {
  let n = 0;
  for (; n < 100; n++) {
    try {
      const a = await g.admit({ op, provider: 'openai', model: 'gpt-4o-mini', body, attribution: tenant ? { tenant } : {} }, client);
      g.settle(a, { pico: a.reservation!.amount, estimated: false }); // spend the whole worst case
      await new Promise((r) => setImmediate(r));
    } catch (e) {
      expect((e as { code?: string }).code).toBe('budget_exceeded');
      return n;
    }
  }
  return n;
}

describe('budget windows with an injected clock', () => {
  it('a daily budget (Europe/Berlin) refills when the local day rolls over, not before', async () => {
    const clock = { now: Date.parse('2026-11-23T22:00:00Z') }; // 23:00 in Berlin
    const g = governor([{ name: 'd', limit_usd: 0.0001, window: 'day', timezone: 'Europe/Berlin', thresholds: [], action: 'block' }], clock);
    const first = await admitUntilBlocked(g);
    expect(first).toBeGreaterThan(0);
    clock.now = Date.parse('2026-11-23T22:59:00Z'); // 23:59 Berlin: same window
    expect(await admitUntilBlocked(g)).toBe(0);
    clock.now = Date.parse('2026-11-23T23:00:01Z'); // 00:00:01 Berlin: a new day
    expect(await admitUntilBlocked(g)).toBe(first);
  });

  it('a rolling window frees budget as spend ages out', async () => {
    const clock = { now: Date.parse('2026-11-23T10:00:00Z') };
    const g = governor([{ name: 'r', limit_usd: 0.0001, window: '1h', timezone: 'UTC', thresholds: [], action: 'block' }], clock);
    const first = await admitUntilBlocked(g);
    clock.now += 30 * 60_000;
    expect(await admitUntilBlocked(g)).toBe(0);
    clock.now += 31 * 60_000 + 60_000; // past the hour (and one bucket)
    expect(await admitUntilBlocked(g)).toBe(first);
  });

  it('per: tenant budgets are isolated', async () => {
    const clock = { now: Date.parse('2026-11-23T10:00:00Z') };
    const g = governor([{ name: 't', limit_usd: 0.0001, window: 'day', timezone: 'UTC', thresholds: [], action: 'block', per: 'tenant' }], clock);
    const acme = await admitUntilBlocked(g, 'acme');
    expect(acme).toBeGreaterThan(0);
    expect(await admitUntilBlocked(g, 'acme')).toBe(0);
    expect(await admitUntilBlocked(g, 'globex')).toBe(acme);
  });

  it('a threshold crossed is marked once per window: later calls make no extra store round trip', async () => {
    const clock = { now: Date.parse('2026-11-23T10:00:00Z') };
    const store = new MemoryBudgetStore();
    let marks = 0;
    const markOnce = store.markOnce.bind(store);
    store.markOnce = (...a: Parameters<typeof store.markOnce>) => (marks++, markOnce(...a));
    const config = { ...loadConfig({}).config, budgets: [{ name: 'd', limit_usd: 1, window: 'day', timezone: 'UTC', thresholds: [0.000001, 0.000002], action: 'block' }] as never };
    const g = new Governor(config, metrics.getMeter('test'), () => clock.now, store);
    for (let i = 0; i < 10; i++) {
      const a = await g.admit({ op, provider: 'openai', model: 'gpt-4o-mini', body, attribution: {} }, client);
      g.settle(a, { pico: a.reservation!.amount, estimated: false });
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(marks).toBe(2); // one per threshold, not one per call
    clock.now = Date.parse('2026-11-24T10:00:00Z'); // a new day: a new window, marked again
    const a = await g.admit({ op, provider: 'openai', model: 'gpt-4o-mini', body, attribution: {} }, client);
    g.settle(a, { pico: a.reservation!.amount, estimated: false });
    await new Promise((r) => setTimeout(r, 5));
    expect(marks).toBe(4);
  });
});
