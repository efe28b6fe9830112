import { metrics } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load';
import { Governor } from '../../src/cost/governor';
import { MemoryBudgetStore } from '../../src/cost/stores/memory';
import { operationForPath } from '../../src/operations';

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

describe('alert_only counts real overspend, not worst cases', () => {
  it.each([
    // spent after the call, the call's actual cost, limit → over?
    [50, 10, 100, false], // under
    [100, 10, 100, false], // landed exactly on the limit
    [101, 10, 100, true], // landed over
    [110, 10, 100, true], // went while the limit was already reached
    [100, 0, 100, true], // cost nothing, but went while the limit was reached
    [99, 0, 100, false],
  ])('overLimit(spent %d, actual %d, limit %d) = %s', async (spent, actual, limit, expected) => {
    const { overLimit } = await import('../../src/cost/engine');
    expect(overLimit(spent, actual, limit)).toBe(expected);
  });

  it('worst-case reservations over the limit are not counted; the call whose cost lands over it and later ones are', async () => {
    const clock = { now: Date.parse('2026-11-23T10:00:00Z') };
    const config = { ...loadConfig({}).config, budgets: [{ name: 'watch', limit_usd: 1, window: 'day', timezone: 'UTC', thresholds: [], action: 'alert_only' }] as never };
    const g = new Governor(config, metrics.getMeter('test'), () => clock.now, new MemoryBudgetStore());
    const counted: string[] = [];
    const events = (g as unknown as { engine: { opts: { events: { exceededAllowed: (...a: unknown[]) => void } } } }).engine.opts.events;
    const original = events.exceededAllowed;
    events.exceededAllowed = (...a) => (counted.push('x'), original(...a));
    const admit = () => g.admit({ op, provider: 'openai', model: 'gpt-4o-mini', body, attribution: {} }, client);
    const limit = 1e12; // $1 in pico
    // Concurrent reservations whose worst cases together pass the limit, each call's real cost small.
    const first = await admit();
    const held = [first, ...(await Promise.all(Array.from({ length: Math.ceil(limit / first.reservation!.amount) + 5 }, admit)))];
    expect(held.every((a) => !a.actions.includes('watch:alert_only'))).toBe(true);
    for (const a of held) g.settle(a, { pico: 1000, estimated: false });
    await new Promise((r) => setTimeout(r, 5));
    expect(counted).toHaveLength(0);
    // One call whose real cost lands over the limit: counted.
    const over = await admit();
    g.settle(over, { pico: limit, estimated: false });
    await new Promise((r) => setTimeout(r, 5));
    expect(counted).toHaveLength(1);
    // A later call goes while the limit is reached: marked on admission and counted.
    const later = await admit();
    expect(later.actions).toContain('watch:alert_only');
    g.settle(later, { pico: 10, estimated: false });
    await new Promise((r) => setTimeout(r, 5));
    expect(counted).toHaveLength(2);
  });
});
