import { describe, expect, it } from 'vitest';
import { breaker } from '../../src/pipeline/layers/breaker';
import { cacheReplay } from '../../src/pipeline/layers/cache-replay';
import { fallback } from '../../src/pipeline/layers/fallback';
import { rateLimit } from '../../src/pipeline/layers/rate-limit';
import { retry } from '../../src/pipeline/layers/retry';
import { staleAnswer } from '../../src/pipeline/layers/stale-answer';
import { AttemptFailed, compose, type SendLayer } from '../../src/pipeline/send-layer';
import { SEND_LAYERS } from '../../src/pipeline/send-order';
import { refusalIn } from '../../src/pipeline/wire';
import { RateLimitWaitExceeded } from '../../src/guards/rate-limit';
import { fakeScope, scriptedNext, target, type FakeBreaker } from './fake-scope';

/** Each send layer on its own, with a fake next step, then the policy of them all as a table. */

const first = (t = target('openai', true)) => ({ target: t, retry: 0 });

describe('compose', () => {
  it('runs the first layer outermost, the transport innermost', async () => {
    const order: string[] = [];
    const layer =
      (name: string): SendLayer =>
      (next) =>
      async (req, call) => {
        order.push(`>${name}`);
        const r = await next(req, call);
        order.push(`<${name}`);
        return r;
      };
    const send = compose([layer('a'), layer('b')], async () => (order.push('transport'), new Response('')));
    await send(first(), fakeScope().scope);
    expect(order).toEqual(['>a', '>b', 'transport', '<b', '<a']);
  });

  it('the send order is declared once: cache replay, stale answer, fallback, retry, rate limit, breaker', () => {
    expect(SEND_LAYERS).toEqual([cacheReplay, staleAnswer, fallback, retry, rateLimit, breaker]);
  });
});

describe('retry', () => {
  it.each([
    // statuses the target answers in turn → tries made, status the walk gets (or 'throws')
    [[200], 1, 200],
    [[500, 200], 2, 200],
    [[500, 500, 500], 3, 500],
    [[429, 503, 200], 3, 200],
    [[400], 1, 400],
    [[404, 200], 1, 404],
    [['throw', 200], 2, 200],
    [['throw', 'throw', 'throw'], 3, 'throws'],
  ] as const)('%j: %i tries, then %s', async (script, tries, outcome) => {
    const seen: string[] = [];
    const { scope, log } = fakeScope();
    const send = retry(scriptedNext({ openai: [...script] }, seen));
    const result = await send(first(), scope).then(
      (r) => r.status,
      (e) => (e instanceof AttemptFailed ? 'throws' : e),
    );
    expect(result).toBe(outcome);
    expect(seen).toHaveLength(tries);
    expect(log.retries).toHaveLength(tries - 1);
  });

  it('a provider asking for longer than retry_after_max_seconds is not waited for', async () => {
    const seen: string[] = [];
    const next = async () => (seen.push('try'), new Response('', { status: 429, headers: { 'retry-after': '3600' } }));
    const r = await retry(next)(first(), fakeScope().scope);
    expect(r.status).toBe(429);
    expect(seen).toHaveLength(1);
  });

  it('without our loop (an upload): one try, the SDK retries', async () => {
    const seen: string[] = [];
    const r = await retry(scriptedNext({ openai: [500, 200] }, seen))(first(), fakeScope({ ownsRetries: false }).scope);
    expect(r.status).toBe(500);
    expect(seen).toHaveLength(1);
  });
});

describe('breaker', () => {
  it('open: refuses, and nothing is sent', async () => {
    const b: FakeBreaker = { open: new Set(['openai']), settled: [] };
    const seen: string[] = [];
    const r = await breaker(scriptedNext({}, seen))(first(), fakeScope({ breaker: b }).scope);
    expect(refusalIn(r)?.code).toBe('circuit_open');
    expect(seen).toEqual([]);
  });

  it.each([
    [500, true],
    [429, true],
    [400, false],
  ])('a %i answer settles the ticket as failure=%s at once', async (status, failure) => {
    const b: FakeBreaker = { open: new Set(), settled: [] };
    await breaker(scriptedNext({ openai: [status] }))(first(), fakeScope({ breaker: b }).scope);
    expect(b.settled).toEqual([['openai', failure]]);
  });

  it('a served answer settles when the call ends: a stream that broke counts', async () => {
    const b: FakeBreaker = { open: new Set(), settled: [] };
    const { scope, log } = fakeScope({ breaker: b });
    await breaker(scriptedNext({ openai: [200] }))(first(), scope);
    expect(b.settled).toEqual([]);
    for (const cb of log.finishers) cb({ outcome: 'error', error: new TypeError('terminated'), tokens: 0 });
    expect(b.settled).toEqual([['openai', true]]);
  });

  it('a connection error counts; the app aborting does not', async () => {
    const b: FakeBreaker = { open: new Set(), settled: [] };
    await breaker(scriptedNext({ openai: ['throw'] }))(first(), fakeScope({ breaker: b }).scope).catch(() => undefined);
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    await breaker(async () => {
      throw abort;
    })(first(), fakeScope({ breaker: b }).scope).catch(() => undefined);
    expect(b.settled).toEqual([
      ['openai', true],
      ['openai', false],
    ]);
  });
});

describe('rate limit', () => {
  function limiter(over: object = {}) {
    const calls = { observed: 0, settled: [] as number[], cancelled: 0 };
    return {
      calls,
      limiter: {
        active: true,
        acquire: async () => ({ waitedMs: 12.4, settle: (t: number) => calls.settled.push(t), cancel: () => calls.cancelled++ }),
        observe: () => calls.observed++,
        ...over,
      },
    };
  }

  it('a wait past the maximum: refused as rate_limited, audited, nothing sent', async () => {
    const { limiter: l } = limiter({
      acquire: async () => {
        throw new RateLimitWaitExceeded('openai|m|rpm', 30_000, 5_000, 30_000);
      },
    });
    const seen: string[] = [];
    const { scope, log } = fakeScope({ limiter: l });
    const r = await rateLimit(scriptedNext({}, seen))(first(), scope);
    expect(refusalIn(r)).toMatchObject({ code: 'rate_limited', status: 429 });
    expect(seen).toEqual([]);
    expect(log.audits).toEqual(['rate_limit_rejected']);
  });

  it('the served try is corrected to the real tokens at the end; the wait is on the span', async () => {
    const { limiter: l, calls } = limiter();
    const { scope, log } = fakeScope({ limiter: l });
    await rateLimit(scriptedNext({ openai: [200] }))(first(), scope);
    expect(calls.observed).toBe(1);
    expect(log.attrs['llm_governor.rate_limit.wait_ms']).toBe(12);
    for (const cb of log.finishers) cb({ outcome: 'completed', tokens: 42 });
    expect(calls.settled).toEqual([42]);
  });

  it('a try a later guard refused is taken back', async () => {
    const { limiter: l, calls } = limiter();
    const b: FakeBreaker = { open: new Set(['openai']), settled: [] };
    const { scope } = fakeScope({ limiter: l, breaker: b });
    const r = await rateLimit(breaker(scriptedNext({})))(first(), scope);
    expect(refusalIn(r)?.code).toBe('circuit_open');
    expect(calls.cancelled).toBe(1);
  });
});

describe('the policy: fallback × retry × rate limit × breaker', () => {
  const backup = target('x_ai');
  it.each([
    // primary's answers, backup's answers, primary breaker open → status the app sees, tries, served by
    { openai: [200], x_ai: [200], open: [], status: 200, tries: ['openai#0'], served: ['openai'] },
    { openai: [500], x_ai: [200], open: [], status: 200, tries: ['openai#0', 'openai#1', 'openai#2', 'x_ai#0'], served: ['x_ai'] },
    { openai: [400], x_ai: [200], open: [], status: 400, tries: ['openai#0'], served: [] },
    { openai: [200], x_ai: [200], open: ['openai'], status: 200, tries: ['x_ai#0'], served: ['x_ai'] },
    { openai: [500], x_ai: [500], open: [], status: 500, tries: ['openai#0', 'openai#1', 'openai#2', 'x_ai#0', 'x_ai#1', 'x_ai#2'], served: [] },
    { openai: [200], x_ai: [200], open: ['openai', 'x_ai'], status: 503, tries: [], served: [] },
    { openai: ['throw'], x_ai: [503, 200], open: [], status: 200, tries: ['openai#0', 'openai#1', 'openai#2', 'x_ai#0', 'x_ai#1'], served: ['x_ai'] },
  ] as const)('$openai / $x_ai, open $open → $status', async (row) => {
    const seen: string[] = [];
    const b: FakeBreaker = { open: new Set(row.open), settled: [] };
    const { scope, log } = fakeScope({ breaker: b, backups: [backup] });
    const composed = compose([fallback, retry, breaker], scriptedNext({ openai: [...row.openai], x_ai: [...row.x_ai] }, seen));
    const r = await composed(first(scope.primary), scope);
    expect(r.status).toBe(row.status);
    expect(seen).toEqual(row.tries);
    expect(log.served).toEqual(row.served);
    if (row.status === 503) expect(log.rejected).toEqual(['circuit_open']);
  });
});

describe('refusals during the walk', () => {
  it('the breaker opens on the primary’s own failure: with no backup the app sees that failure, not circuit_open', async () => {
    const b: FakeBreaker = { open: new Set(), settled: [] };
    const opening = { ...b, settled: { push: (e: [string, boolean]) => (e[1] ? b.open.add(e[0]) : undefined, b.settled.push(e)) } } as unknown as FakeBreaker;
    const { scope, log } = fakeScope({ breaker: opening });
    const seen: string[] = [];
    const r = await compose([fallback, retry, breaker], scriptedNext({ openai: [500] }, seen))(first(scope.primary), scope);
    expect(r.status).toBe(500);
    expect(refusalIn(r)).toBeUndefined();
    expect(seen).toEqual(['openai#0']);
    expect(log.rejected).toEqual([]);
  });

  it('a rate-limit refusal ends the walk: no backup is tried, and it is counted', async () => {
    const limiter = {
      active: false,
      acquire: async () => {
        throw new RateLimitWaitExceeded('openai|m|provider-requests', 0, 60_000, 30_000);
      },
      observe: () => undefined,
    };
    const seen: string[] = [];
    const { scope, log } = fakeScope({ limiter, backups: [target('x_ai')] });
    const r = await compose([fallback, retry, rateLimit], scriptedNext({}, seen))(first(scope.primary), scope);
    expect(refusalIn(r)?.code).toBe('rate_limited');
    expect(seen).toEqual([]);
    expect(log.fallbacks).toEqual([]);
    expect(log.rejected).toEqual(['rate_limited']);
  });
});

describe('answers that are not the web Response (openai 4 uses node-fetch)', () => {
  const nodeFetchLike = (status: number) => ({ ok: status < 300, status, headers: new Headers(), bodyUsed: false, body: null }) as unknown as Response;

  it('retry and fallback pass them through, and retry what fails', async () => {
    const answers = [nodeFetchLike(503), nodeFetchLike(200)];
    const seen: number[] = [];
    const next = async () => {
      const a = answers.shift()!;
      seen.push(a.status);
      return a;
    };
    const { scope } = fakeScope();
    const r = await compose([fallback, retry], next)(first(scope.primary), scope);
    expect(r.status).toBe(200);
    expect(r).not.toBeInstanceOf(Response);
    expect(seen).toEqual([503, 200]);
  });

  it('a failed one out of tries is what the SDK gets', async () => {
    const { scope } = fakeScope();
    const r = await compose([fallback, retry], async () => nodeFetchLike(500))(first(scope.primary), scope);
    expect(r.status).toBe(500);
  });
});
