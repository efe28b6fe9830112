import { ROOT_CONTEXT } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema';
import { operationForPath } from '../../src/operations';
import { newRecord } from '../../src/operations/record';
import { ADMISSION_STEPS, admit } from '../../src/pipeline/admission-order';
import { askStreamUsage, attribute } from '../../src/pipeline/admission/attribute';
import { lookUpCache } from '../../src/pipeline/admission/cache-lookup';
import { moderate } from '../../src/pipeline/admission/moderate';
import { reserve } from '../../src/pipeline/admission/reserve';
import type { Admitting } from '../../src/pipeline/admission/types';

/** Each admission step on a call made of plain objects: what it decides, and what it records. */

const chat = operationForPath('/chat/completions')!;

function admitting(body: Record<string, unknown>, over: Partial<Admitting> = {}, provider = 'openai') {
  const log = { attrs: {} as Record<string, unknown>, audits: [] as string[], rejected: [] as string[], renamed: 0 };
  const a: Admitting = {
    config: configSchema.parse({}),
    op: chat,
    provider: { name: provider as never, serverAddress: 'api.example', serverPort: 443 } as never,
    client: {},
    path: '/chat/completions',
    parent: ROOT_CONTEXT,
    rec: newRecord('chat', provider as never, {}),
    original: { body, headers: {} },
    plain: true,
    attribution: {},
    setAttributes: (attrs) => void Object.assign(log.attrs, attrs),
    renamed: () => void log.renamed++,
    audit: (kind) => void log.audits.push(kind),
    countRejected: (r) => void log.rejected.push(r),
    identity: () => ({}),
    moderations: async () => ({ results: [] }),
    refusal: (code, status, message) => Object.assign(new Error(message), { llmGovernorCode: code, status }),
    ...over,
  };
  return { a, log };
}

const messages = [{ role: 'user', content: 'hi' }];

describe('the admission order', () => {
  it('is declared once: attribute, ask for stream usage, moderate, cache lookup, reserve', () => {
    expect(ADMISSION_STEPS).toEqual([attribute, askStreamUsage, moderate, lookUpCache, reserve]);
  });

  it('a refusal stops the steps and reaches the app; any other fault of a step is ours and passes', async () => {
    const { a } = admitting({ model: 'gpt-4o-mini', messages });
    const boom = {
      check: async () => {
        throw new Error('our bug');
      },
      active: true,
    };
    await expect(admit({ ...a, guards: { moderation: boom } as never })).resolves.toBeUndefined();
    const flagged = { check: async () => ({ source: 'rule', categories: ['x'], reason: 'flagged' }) };
    await expect(admit({ ...a, guards: { moderation: flagged } as never })).rejects.toMatchObject({ llmGovernorCode: 'content_blocked', status: 400 });
  });
});

describe('attribute', () => {
  it('names the span after the model, reads the stream flag, keeps openai.* attributes for OpenAI only', () => {
    const body = { model: 'gpt-4o', messages, stream: true, service_tier: 'flex' };
    const openai = admitting(body);
    attribute(openai.a);
    expect(openai.a.rec.requestModel).toBe('gpt-4o');
    expect(openai.a.rec.stream).toBe(true);
    expect(openai.log.renamed).toBe(1);
    expect(openai.log.attrs['openai.request.service_tier']).toBe('flex');
    const xai = admitting(body, {}, 'x_ai');
    attribute(xai.a);
    expect(Object.keys(xai.log.attrs).filter((k) => k.startsWith('openai.'))).toEqual([]);
  });
});

describe('askStreamUsage', () => {
  it('asks a stream for usage on a copy; the app’s body is never changed', () => {
    const body = { model: 'gpt-4o', messages, stream: true };
    const { a } = admitting(body);
    askStreamUsage(a);
    expect(a.body).toMatchObject({ stream_options: { include_usage: true } });
    expect(body).not.toHaveProperty('stream_options');
    expect(a.rec.usageInjected).toBe(true);
  });

  it('leaves a non-stream call and LLM_GOVERNOR_REQUEST_STREAM_USAGE=false alone', () => {
    const plain = admitting({ model: 'gpt-4o', messages });
    askStreamUsage(plain.a);
    expect(plain.a.body).toBeUndefined();
    const off = admitting({ model: 'gpt-4o', messages, stream: true }, { config: configSchema.parse({ request_stream_usage: false }) });
    askStreamUsage(off.a);
    expect(off.a.body).toBeUndefined();
  });
});

describe('moderate', () => {
  it('flagged content: counted, audited, refused with content_blocked', async () => {
    const guard = { check: async () => ({ source: 'rule', categories: ['secrets'], reason: 'rule secrets matched' }) };
    const { a, log } = admitting({ model: 'gpt-4o', messages }, { guards: { moderation: guard } as never });
    await expect(moderate(a)).rejects.toMatchObject({ llmGovernorCode: 'content_blocked' });
    expect(log.rejected).toEqual(['content']);
    expect(log.audits).toEqual(['moderation_block']);
  });
});

describe('lookUpCache', () => {
  const cacheWith = (hit: unknown) => {
    const lookups: string[] = [];
    return { lookups, guards: { cacheByDefault: true, cache: { get: async () => hit, countLookup: (r: string) => lookups.push(r) } } as never };
  };

  it('a hit is kept for the send path and audited; the call is marked a cache hit', async () => {
    const c = cacheWith({ status: 200, headers: {}, body: '{}' });
    const { a, log } = admitting({ model: 'gpt-4o', messages }, { guards: c.guards });
    await lookUpCache(a);
    expect(a.cached).toBeDefined();
    expect(a.cacheKey).toMatch(/^v1:/);
    expect(c.lookups).toEqual(['hit']);
    expect(log.audits).toEqual(['cache_hit']);
  });

  it('the header turns it off for one call (in any case); streams are never looked up', async () => {
    const c = cacheWith(undefined);
    const off = admitting({ model: 'gpt-4o', messages }, { guards: c.guards, original: { body: { model: 'gpt-4o', messages }, headers: { 'X-LLM-Governor-Cache': 'off' } } });
    await lookUpCache(off.a);
    const stream = admitting({ model: 'gpt-4o', messages, stream: true }, { guards: c.guards });
    attribute(stream.a);
    await lookUpCache(stream.a);
    expect(c.lookups).toEqual([]);
  });
});

describe('reserve', () => {
  const governor = (result: unknown) => ({ budgetsActive: true, admit: async () => (result instanceof Error ? Promise.reject(result) : result) });

  it('a downgrade sends a copy with the cheaper model, audited once', async () => {
    const body = { model: 'gpt-4o', messages };
    const admission = { model: 'gpt-4o-mini', actions: ['gpt4o:downgrade'], reservation: { amount: 1_000_000 } };
    const { a, log } = admitting(body, { governor: governor(admission) as never });
    await reserve(a);
    expect(a.body).toMatchObject({ model: 'gpt-4o-mini' });
    expect(body.model).toBe('gpt-4o');
    expect(log.audits).toEqual(['downgrade_applied']);
    expect(log.attrs['llm_governor.budget.reserved_usd']).toBe(0.000001);
  });

  it('a block is audited and refuses; a cache hit is never reserved', async () => {
    const blocked = Object.assign(new Error('over'), { llmGovernorCode: 'budget_exceeded', status: 429, details: { budget: 'daily' } });
    const { a, log } = admitting({ model: 'gpt-4o', messages }, { governor: governor(blocked) as never });
    await expect(reserve(a)).rejects.toBe(blocked);
    expect(log.audits).toEqual(['budget_block']);
    let asked = 0;
    const hit = admitting({ model: 'gpt-4o', messages }, { governor: { budgetsActive: true, admit: async () => (asked++, undefined) } as never, cached: { status: 200, headers: {}, body: '{}' } });
    await reserve(hit.a);
    expect(asked).toBe(0);
  });
});
