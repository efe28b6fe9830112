import { metrics } from '@opentelemetry/api';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { CircuitOpenError, governorError } from '../../src/errors';
import { Breakers, isBreakerFailure } from '../../src/guards/breaker';

const client = new OpenAI({ apiKey: 'sk-x', baseURL: 'http://127.0.0.1:9/v1' });
const key = { id: 'openai|gpt-4o|h', provider: 'openai', model: 'gpt-4o', server: 'h' };
const tick = () => new Promise((r) => setImmediate(r));

describe('isBreakerFailure', () => {
  it.each([
    ['500', new OpenAI.InternalServerError(500, {}, 'x', new Headers()), true],
    ['503', new OpenAI.APIError(503, {}, 'x', new Headers()), true],
    ['429', new OpenAI.RateLimitError(429, {}, 'x', new Headers()), true],
    ['connection error', new OpenAI.APIConnectionError({ message: 'reset' }), true],
    ['timeout', new OpenAI.APIConnectionTimeoutError(), true],
    ['truncated stream (TypeError: terminated)', new TypeError('terminated'), true],
    ['400', new OpenAI.BadRequestError(400, {}, 'x', new Headers()), false],
    ['401', new OpenAI.AuthenticationError(401, {}, 'x', new Headers()), false],
    ['404', new OpenAI.NotFoundError(404, {}, 'x', new Headers()), false],
    ['422', new OpenAI.UnprocessableEntityError(422, {}, 'x', new Headers()), false],
    ['user abort', new OpenAI.APIUserAbortError(), false],
    ['our budget rejection', governorError(client, 'budget_exceeded', 429, 'x', {}), false],
  ])('%s → %s', (_n, err, counts) => expect(isBreakerFailure(err)).toBe(counts));
});

describe('Breakers', () => {
  it('opens after N failures, fails fast, lets exactly one trial through half-open, and closes on success', async () => {
    const b = new Breakers({ failures: 3, resetMs: 150, errorPercentage: 50, rollingWindowMs: 10_000 }, metrics.getMeter('t'));
    for (let i = 0; i < 3; i++) {
      b.admit(key, client).settle(true);
      await tick();
    }
    let err: unknown;
    try {
      b.admit(key, client);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CircuitOpenError);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err).toMatchObject({ status: 503, code: 'circuit_open' });
    expect((err as Error).message).toMatch(/next trial call is allowed at \d{4}-/);

    await new Promise((r) => setTimeout(r, 200));
    const trial = b.admit(key, client); // half-open: one trial
    expect(() => b.admit(key, client)).toThrow(/circuit breaker .* is open/); // a second concurrent one is refused
    trial.settle(false);
    await tick();
    for (let i = 0; i < 5; i++) b.admit(key, client).settle(false); // closed again
  });

  it('a failed trial re-opens it; other keys are unaffected', async () => {
    const b = new Breakers({ failures: 2, resetMs: 100, errorPercentage: 50, rollingWindowMs: 10_000 }, metrics.getMeter('t'));
    b.admit(key, client).settle(true);
    b.admit(key, client).settle(true);
    await tick();
    expect(() => b.admit(key, client)).toThrow();
    expect(() => b.admit({ ...key, id: 'other', model: 'gpt-4o-mini' }, client).settle(false)).not.toThrow();
    await new Promise((r) => setTimeout(r, 130));
    b.admit(key, client).settle(true);
    await tick();
    expect(() => b.admit(key, client)).toThrow();
  });
});
