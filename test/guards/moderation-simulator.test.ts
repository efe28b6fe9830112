import { MeterProvider } from '@opentelemetry/sdk-metrics';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema';
import { ModerationGuard, type ModerationEndpoint } from '../../src/guards/moderation';
import { startSimulator, type Simulator } from '../../src/simulator';

describe('ModerationGuard against the simulator, through the real openai client', () => {
  let sim: Simulator;
  let endpoint: ModerationEndpoint;

  beforeAll(async () => {
    sim = await startSimulator({ seed: 1 });
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: sim.openaiBaseURL, maxRetries: 0 });
    // The SDK's `Moderation.Categories` is an interface (no index signature), hence the cast.
    endpoint = (model, input) => client.moderations.create({ model, input }) as unknown as ReturnType<ModerationEndpoint>;
  });
  afterAll(() => sim?.close());

  const guard = new ModerationGuard({ config: configSchema.parse({ moderation_endpoint: true }), meter: new MeterProvider().getMeter('t') });
  const target = { provider: 'openai', model: 'gpt-4o-mini', operation: 'chat', path: '/chat/completions' };
  const body = (...user: string[]) => ({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'be kind' }, ...user.map((content) => ({ role: 'user', content }))] });

  it('a keyword the simulator flags is blocked, in one request carrying every user text', async () => {
    sim.reset();
    const verdict = await guard.check(target, body('good morning', 'you are an idiot'), endpoint);
    expect(verdict).toEqual({
      source: 'moderation',
      categories: ['harassment'],
      reason: 'the moderation endpoint (omni-moderation-latest) flagged the content: harassment',
    });
    const requests = sim.requests();
    expect(requests.map((r) => [r.path, r.body])).toEqual([['/v1/moderations', { model: 'omni-moderation-latest', input: ['good morning', 'you are an idiot'] }]]);
  });

  it('several categories from the simulator, each once', async () => {
    const verdict = await guard.check(target, body('I want to kill myself'), endpoint);
    expect(verdict?.categories).toEqual(['self-harm', 'self-harm/intent', 'violence']);
  });

  it('a clean text is not blocked', async () => {
    sim.reset();
    expect(await guard.check(target, body('what is the capital of France?'), endpoint)).toBeUndefined();
    expect(sim.requests()).toHaveLength(1);
  });

  it('closed failure mode: the simulator failing with 500 gives an "unavailable" verdict', async () => {
    const closed = new ModerationGuard({
      config: configSchema.parse({ moderation_endpoint: true, moderation_failure_mode: 'closed' }),
      meter: new MeterProvider().getMeter('t'),
    });
    sim.setFaults([{ kind: '500', match: { path: 'moderations' } }]);
    try {
      expect(await closed.check(target, body('hello'), endpoint)).toMatchObject({ source: 'unavailable', categories: ['moderation_unavailable'] });
      expect(await closed.check(target, body('hello'), endpoint)).toMatchObject({ reason: expect.stringContaining('HTTP 500') });
    } finally {
      sim.setFaults([]);
    }
  });
});
