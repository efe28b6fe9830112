// llm_governor.cache.requests and llm_governor.cache.saved, read back from an in-memory MeterProvider.
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema';
import { ResponseCache } from '../../src/guards/cache';
import { ATTR, GOVERNOR_METRIC } from '../../src/semconv';

class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

function setup() {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  const cache = new ResponseCache({ config: configSchema.parse({ cache_enabled: true }), meter: provider.getMeter('test') });
  const read = async (name: string) => {
    const { resourceMetrics } = (await reader.collect()) as { resourceMetrics: ResourceMetrics };
    const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
    return metric ? { unit: metric.descriptor.unit, points: metric.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value as number })) } : undefined;
  };
  return { cache, read };
}

const chat = { [ATTR.PROVIDER_NAME]: 'openai', [ATTR.REQUEST_MODEL]: 'gpt-4o-mini', [ATTR.OPERATION_NAME]: 'chat' };
const embed = { [ATTR.PROVIDER_NAME]: 'openai', [ATTR.REQUEST_MODEL]: 'text-embedding-3-small', [ATTR.OPERATION_NAME]: 'embeddings' };

describe('cache metrics', () => {
  it('counts lookups by result, provider, model and operation', async () => {
    const { cache, read } = setup();
    expect(GOVERNOR_METRIC.CACHE_REQUESTS).toBe('llm_governor.cache.requests');
    cache.countLookup('miss', chat);
    cache.countLookup('hit', chat);
    cache.countLookup('hit', chat);
    cache.countLookup('hit', embed);
    // Other attributes of the call (tenant, user, …) never become labels here.
    cache.countLookup('miss', { ...chat, [ATTR.TENANT]: 'acme', [ATTR.USER]: 'u1' });
    const m = await read(GOVERNOR_METRIC.CACHE_REQUESTS);
    expect(m?.unit).toBe('{request}');
    const points = m!.points.map((p) => ({ ...p.attributes, value: p.value }));
    expect(points).toHaveLength(3);
    expect(points).toEqual(
      expect.arrayContaining([
        { ...chat, [ATTR.RESULT]: 'miss', value: 2 },
        { ...chat, [ATTR.RESULT]: 'hit', value: 2 },
        { ...embed, [ATTR.RESULT]: 'hit', value: 1 },
      ]),
    );
  });

  it('adds the cost a hit avoided, in USD; ignores amounts that are not above 0', async () => {
    const { cache, read } = setup();
    expect(GOVERNOR_METRIC.CACHE_SAVED).toBe('llm_governor.cache.saved');
    cache.countSaved(0.0015, chat);
    cache.countSaved(0.0025, chat);
    cache.countSaved(0.5, { ...embed, [ATTR.FEATURE]: 'search' });
    cache.countSaved(0, chat);
    cache.countSaved(-1, chat);
    cache.countSaved(Number.NaN, chat);
    cache.countSaved(Number.POSITIVE_INFINITY, chat);
    const m = await read(GOVERNOR_METRIC.CACHE_SAVED);
    expect(m?.unit).toBe('USD');
    expect(m!.points).toHaveLength(2);
    const byModel = Object.fromEntries(m!.points.map((p) => [p.attributes[ATTR.REQUEST_MODEL], p]));
    expect(byModel['gpt-4o-mini']!.value).toBeCloseTo(0.004, 12);
    expect(byModel['gpt-4o-mini']!.attributes).toEqual(chat);
    expect(byModel['text-embedding-3-small']!.value).toBe(0.5);
    expect(byModel['text-embedding-3-small']!.attributes).toEqual(embed);
  });

  it('reports nothing before the first lookup', async () => {
    const { read } = setup();
    const m = await read(GOVERNOR_METRIC.CACHE_REQUESTS);
    expect(m?.points ?? []).toEqual([]);
  });
});
