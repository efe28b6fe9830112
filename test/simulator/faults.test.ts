import { describe, expect, it } from 'vitest';
import { FaultEngine, globMatch, parseFaultHeader, parseFaultSpec, ruleMatches } from '../../src/simulator/faults';
import type { FaultRule } from '../../src/simulator/index';

const chat = { path: '/v1/chat/completions', model: 'gpt-4o-mini', provider: 'openai' as const };

describe('globMatch', () => {
  it.each([
    ['gpt-4o-mini', 'gpt-4o-mini', true],
    ['gpt-4o', 'gpt-4o-mini', false],
    ['gpt-4o*', 'gpt-4o-mini', true],
    ['*mini', 'gpt-4o-mini', true],
    ['gpt-*-mini', 'gpt-4.1-mini', true],
    ['gpt-4.1', 'gpt-441', false],
    ['*', 'anything', true],
  ])('%s ~ %s -> %s', (pattern, value, expected) => {
    expect(globMatch(pattern, value)).toBe(expected);
  });
});

describe('ruleMatches', () => {
  it.each<[FaultRule['match'], boolean]>([
    [undefined, true],
    [{ path: 'chat/completions' }, true],
    [{ path: 'embeddings' }, false],
    [{ model: 'gpt-4o*' }, true],
    [{ model: 'gpt-4o' }, false],
    [{ provider: 'openai' }, true],
    [{ provider: 'azure' }, false],
    [{ path: 'chat', model: 'gpt-4o-mini', provider: 'openai' }, true],
    [{ path: 'chat', provider: 'xai' }, false],
  ])('match %j -> %s', (match, expected) => {
    expect(ruleMatches({ kind: '500', match }, chat)).toBe(expected);
  });

  it('a model pattern never matches a request without a model', () => {
    expect(ruleMatches({ kind: '500', match: { model: '*' } }, { path: '/v1/models', provider: 'openai' })).toBe(false);
  });
});

describe('parseFaultHeader', () => {
  it.each([
    ['429', { kind: '429' }],
    ['429;retry-after=0', { kind: '429', retryAfterSeconds: 0 }],
    ['503; retry-after=2.5', { kind: '503', retryAfterSeconds: 2.5 }],
    ['hang', { kind: 'hang' }],
    ['truncate', { kind: 'truncate' }],
    ['nonsense', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%j', (header, expected) => {
    expect(parseFaultHeader(header)).toEqual(expected);
  });
});

describe('parseFaultSpec', () => {
  it.each<[string, FaultRule]>([
    ['429:0.1', { kind: '429', probability: 0.1 }],
    ['500', { kind: '500' }],
    ['hang:1:count=2,after=1', { kind: 'hang', probability: 1, count: 2, after: 1 }],
    ['503::retry-after=3', { kind: '503', retryAfterSeconds: 3 }],
    ['reset:0.5:path=embeddings,model=gpt-4o*,provider=azure', { kind: 'reset', probability: 0.5, match: { path: 'embeddings', model: 'gpt-4o*', provider: 'azure' } }],
  ])('%s', (spec, rule) => {
    expect(parseFaultSpec(spec)).toEqual(rule);
  });

  it.each(['teapot', '429:2', '429:0.1:colour=red'])('rejects %s', (spec) => {
    expect(() => parseFaultSpec(spec)).toThrow();
  });
});

describe('FaultEngine', () => {
  const kinds = (engine: FaultEngine, n: number) => Array.from({ length: n }, () => engine.decide(chat)?.kind ?? '-');

  it('honours after and count', () => {
    const engine = new FaultEngine([{ kind: '500', after: 1, count: 2 }], 1);
    expect(kinds(engine, 5)).toEqual(['-', '500', '500', '-', '-']);
  });

  it('evaluates rules in order; the first firing rule wins', () => {
    const engine = new FaultEngine([{ kind: '429', count: 1 }, { kind: '503' }], 1);
    expect(kinds(engine, 3)).toEqual(['429', '503', '503']);
  });

  it('only counts matching requests', () => {
    const engine = new FaultEngine([{ kind: 'reset', count: 1, match: { path: 'embeddings' } }], 1);
    expect(engine.decide(chat)).toBeUndefined();
    expect(engine.decide({ ...chat, path: '/v1/embeddings' })?.kind).toBe('reset');
    expect(engine.decide({ ...chat, path: '/v1/embeddings' })).toBeUndefined();
  });

  it('draws probabilities from the seed, reproducibly, and reset() replays them', () => {
    const rules: FaultRule[] = [{ kind: '429', probability: 0.3 }];
    const a = new FaultEngine(rules, 7);
    const first = kinds(a, 200);
    expect(kinds(new FaultEngine(rules, 7), 200)).toEqual(first);
    expect(kinds(new FaultEngine(rules, 8), 200)).not.toEqual(first);
    const fired = first.filter((k) => k === '429').length;
    expect(fired).toBeGreaterThan(35);
    expect(fired).toBeLessThan(85);
    a.reset();
    expect(kinds(a, 200)).toEqual(first);
  });

  it('setRules replaces the rules and their counters', () => {
    const engine = new FaultEngine([{ kind: '500', count: 1 }], 1);
    engine.decide(chat);
    engine.setRules([{ kind: 'hang', count: 1 }]);
    expect(kinds(engine, 2)).toEqual(['hang', '-']);
  });
});
