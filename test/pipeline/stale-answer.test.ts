import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema';
import { freshness } from '../../src/guards/cache/entry';
import { breaker } from '../../src/pipeline/layers/breaker';
import { fallback } from '../../src/pipeline/layers/fallback';
import { rateLimit } from '../../src/pipeline/layers/rate-limit';
import { retry } from '../../src/pipeline/layers/retry';
import { staleAnswer, staleWanted } from '../../src/pipeline/layers/stale-answer';
import { isOutage, refusalEnding, statusEnding, type TargetEnding } from '../../src/pipeline/outage';
import { compose } from '../../src/pipeline/send-layer';
import { RateLimitWaitExceeded } from '../../src/guards/rate-limit';
import { fakeScope, scriptedNext, target, type FakeBreaker } from './fake-scope';

/** Stale answers during an outage: the decision as tables, then the layer over the real walk. */

describe('how a target’s turn ended', () => {
  it.each([
    [500, 'down'],
    [502, 'down'],
    [503, 'down'],
    [504, 'down'],
    [429, 'answered'],
    [408, 'answered'],
    [409, 'answered'],
  ] as const)('status %i → %s', (status, ending) => expect(statusEnding(status)).toBe(ending));

  it.each([
    ['circuit_open', 'down'],
    ['rate_limited', 'refused'],
    ['budget_exceeded', 'refused'],
    ['budget_unavailable', 'refused'],
    ['content_blocked', 'refused'],
  ] as const)('refusal %s → %s', (code, ending) => expect(refusalEnding(code)).toBe(ending));
});

describe('an outage: every target tried was down', () => {
  it.each<[TargetEnding[], boolean]>([
    [['down'], true],
    [['down', 'down'], true],
    [['down', 'skipped'], true],
    [['skipped'], false],
    [[], false],
    [['down', 'answered'], false],
    [['answered'], false],
    [['down', 'refused'], false],
    [['refused', 'down'], false],
  ])('%j → %s', (endings, outage) => expect(isOutage(endings)).toBe(outage));
});

describe('freshness of an entry (TTL 10 s, stale window 60 s)', () => {
  it.each([
    [0, 'fresh'],
    [9_999, 'fresh'],
    [10_000, 'stale'],
    [69_999, 'stale'],
    [70_000, 'expired'],
  ] as const)('%i ms old → %s', (age, state) => expect(freshness(1_000, 1_000 + age, 10_000, 60_000)).toBe(state));

  it('without a stale window, past the TTL is expired', () => expect(freshness(0, 10_000, 10_000, 0)).toBe('expired'));
});

describe('who may be answered stale', () => {
  const config = (s: number) => configSchema.parse({ cache_serve_stale_seconds: s });
  const entry = { status: 200, headers: {}, body: '{}', storedAt: 0 };
  it.each([
    [{ cacheKey: 'k', config: config(60) }, true],
    [{ cacheKey: 'k', config: config(0) }, false],
    [{ cacheKey: undefined, config: config(60) }, false],
    [{ cacheKey: 'k', cached: entry, config: config(60) }, false],
  ])('%#', (call, wanted) => expect(staleWanted(call)).toBe(wanted));
});

describe('the stale-answer layer over the walk (fallback × retry × rate limit × breaker)', () => {
  const stored = { status: 200, headers: { 'content-type': 'application/json' }, body: '{"id":"stale"}', storedAt: 0 };
  const backup = target('x_ai');
  const limited = {
    active: false,
    acquire: async () => {
      throw new RateLimitWaitExceeded('openai|m|rpm', 0, 60_000, 30_000);
    },
    observe: () => undefined,
  };

  it.each([
    // primary, backup (none: no backup), open breakers, rate limited → served stale?, status the app sees
    { openai: [500], x_ai: [500], open: [], stale: true, status: 200 },
    { openai: ['throw'], x_ai: ['throw'], open: [], stale: true, status: 200 },
    { openai: [503], x_ai: undefined, open: [], stale: true, status: 200 },
    { openai: [200], x_ai: [200], open: ['openai', 'x_ai'], stale: true, status: 200 },
    { openai: [500], x_ai: [200], open: [], stale: false, status: 200 },
    { openai: [500, 200], x_ai: [500], open: [], stale: false, status: 200 },
    { openai: [200], x_ai: [200], open: ['openai'], stale: false, status: 200 },
    { openai: [400], x_ai: [500], open: [], stale: false, status: 400 },
    { openai: [500], x_ai: [404], open: [], stale: false, status: 404 },
    { openai: [429], x_ai: [429], open: [], stale: false, status: 429 },
    { openai: [500], x_ai: [429], open: [], stale: false, status: 429 },
    { openai: [200], x_ai: undefined, open: [], limited: true, stale: false, status: 429 },
  ] as const)('$openai / $x_ai, open $open → stale $stale, $status', async (row) => {
    const b: FakeBreaker = { open: new Set(row.open), settled: [] };
    const { scope, log } = fakeScope({ breaker: b, backups: row.x_ai ? [backup] : [], ...('limited' in row ? { limiter: limited } : {}) });
    const cache = { getStale: async () => stored, set: () => Promise.resolve() };
    Object.assign(scope, { cacheKey: 'k', config: { ...scope.config, cache_serve_stale_seconds: 60 }, guards: { ...scope.guards, cache } });
    const walk = compose([staleAnswer, fallback, retry, rateLimit, breaker], scriptedNext({ openai: [...row.openai], x_ai: [...(row.x_ai ?? [])] }));
    const r = await walk({ target: scope.primary, retry: 0 }, scope);
    expect(r.status).toBe(row.status);
    expect(log.audits.includes('cache_stale_served')).toBe(row.stale);
    if (row.stale) {
      expect(await r.text()).toBe(stored.body);
      expect(r.headers.get('x-llm-governor-cache')).toBe('stale');
    }
  });

  it('an outage with nothing in the window: the app sees the provider’s failure', async () => {
    const { scope, log } = fakeScope();
    const cache = { getStale: async () => undefined };
    Object.assign(scope, { cacheKey: 'k', config: { ...scope.config, cache_serve_stale_seconds: 60 }, guards: { ...scope.guards, cache } });
    const r = await compose([staleAnswer, fallback, retry], scriptedNext({ openai: [500] }))({ target: scope.primary, retry: 0 }, scope);
    expect(r.status).toBe(500);
    expect(log.audits).toEqual([]);
  });

  it('the app’s own abort is never answered stale', async () => {
    const controller = new AbortController();
    const { scope, log } = fakeScope({ signal: controller.signal });
    let asked = 0;
    const cache = { getStale: async () => (asked++, stored) };
    Object.assign(scope, { cacheKey: 'k', config: { ...scope.config, cache_serve_stale_seconds: 60 }, guards: { ...scope.guards, cache } });
    const next = scriptedNext({ openai: [500] });
    const aborting = async (...args: Parameters<typeof next>) => (controller.abort(), next(...args));
    const r = await compose([staleAnswer, fallback], aborting)({ target: scope.primary, retry: 0 }, scope);
    expect(r.status).toBe(500);
    expect(asked).toBe(0);
    expect(log.audits).toEqual([]);
  });
});

describe('cache_serve_stale_seconds', () => {
  it('is off by default, and read from the environment', async () => {
    const { loadConfig } = await import('../../src/config/load');
    expect(loadConfig({}).config.cache_serve_stale_seconds).toBe(0);
    expect(loadConfig({ LLM_GOVERNOR_CACHE_SERVE_STALE_SECONDS: '600' }).config.cache_serve_stale_seconds).toBe(600);
  });
});
