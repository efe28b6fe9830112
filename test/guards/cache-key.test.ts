// cacheKey: which requests share a key, which differ, which are never cached. Pure tables.
import { describe, expect, it } from 'vitest';
import { cacheKey, canonicalJson, cacheableOperationPath, type CacheKeyInput } from '../../src/guards/cache';

const chat: CacheKeyInput = {
  provider: 'openai',
  server: 'api.openai.com',
  path: '/chat/completions',
  body: {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'What is the capital of France? secret-prompt-text' },
    ],
    temperature: 0,
  },
};
const base = chat.body as Record<string, unknown>;
const withBody = (body: Record<string, unknown>, over: Partial<CacheKeyInput> = {}): CacheKeyInput => ({ ...chat, ...over, body });
const K = cacheKey(chat)!;

describe('cacheKey', () => {
  it('is v1: and a sha256 hex digest, holding no request text', () => {
    expect(K).toMatch(/^v1:[0-9a-f]{64}$/);
    for (const text of ['secret', 'France', 'gpt-4o', 'openai', 'chat']) expect(K).not.toContain(text);
    expect(cacheKey(chat)).toBe(K); // deterministic
  });

  it('ignores key order, recursively (arrays keep theirs)', () => {
    const reordered = {
      temperature: 0,
      messages: [
        { content: 'You are terse.', role: 'system' },
        { content: 'What is the capital of France? secret-prompt-text', role: 'user' },
      ],
      model: 'gpt-4o-mini',
    };
    expect(cacheKey(withBody(reordered))).toBe(K);
    const nested = (a: Record<string, unknown>) => cacheKey(withBody({ ...base, response_format: { type: 'json_schema', json_schema: a } }));
    expect(nested({ name: 'x', schema: { type: 'object', properties: { b: { type: 'string' }, a: { type: 'number' } } } })).toBe(
      nested({ schema: { properties: { a: { type: 'number' }, b: { type: 'string' } }, type: 'object' }, name: 'x' }),
    );
    const swapped = [...(base.messages as unknown[])].reverse();
    expect(cacheKey(withBody({ ...base, messages: swapped }))).not.toBe(K);
  });

  const changes: Array<[string, CacheKeyInput]> = [
    ['model', withBody({ ...base, model: 'gpt-4o' })],
    ['a message', withBody({ ...base, messages: [{ role: 'user', content: 'What is the capital of Spain?' }] })],
    ['temperature', withBody({ ...base, temperature: 0.7 })],
    ['temperature 0 vs absent', withBody({ model: base.model, messages: base.messages })],
    ['top_p', withBody({ ...base, top_p: 0.5 })],
    ['seed', withBody({ ...base, seed: 42 })],
    ['tools', withBody({ ...base, tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] })],
    ['tool_choice', withBody({ ...base, tool_choice: 'none' })],
    ['response_format', withBody({ ...base, response_format: { type: 'json_object' } })],
    ['max_tokens', withBody({ ...base, max_tokens: 10 })],
    ['max_completion_tokens', withBody({ ...base, max_completion_tokens: 10 })],
    ['n', withBody({ ...base, n: 2 })],
    ['stop', withBody({ ...base, stop: ['\n'] })],
    ['logprobs', withBody({ ...base, logprobs: true })],
    ['reasoning_effort', withBody({ ...base, reasoning_effort: 'low' })],
    ['stream: true', withBody({ ...base, stream: true })],
    ['stream: false', withBody({ ...base, stream: false })],
    ['a null value', withBody({ ...base, seed: null })],
    ['a number vs its string', withBody({ ...base, temperature: '0' })],
    ['provider', { ...chat, provider: 'azure.ai.openai' }],
    ['server', { ...chat, server: 'llm.internal' }],
    ['no server', { ...chat, server: undefined }],
    ['base path', { ...chat, path: '/v1/chat/completions' }],
    ['api-version', { ...chat, path: '/chat/completions?api-version=2024-10-21' }],
  ];
  it.each(changes)('changes with %s', (_, input) => {
    const key = cacheKey(input);
    expect(key).toMatch(/^v1:[0-9a-f]{64}$/);
    expect(key).not.toBe(K);
  });

  it('every answer-changing variant has its own key', () => {
    const keys = changes.map(([, input]) => cacheKey(input));
    expect(new Set([K, ...keys]).size).toBe(changes.length + 1);
  });

  const same: Array<[string, Record<string, unknown>]> = [
    ['user', { user: 'alice' }],
    ['metadata', { metadata: { run: '7' } }],
    ['store', { store: true }],
    ['safety_identifier', { safety_identifier: 'h-123' }],
    ['prompt_cache_key', { prompt_cache_key: 'pk' }],
    ['service_tier', { service_tier: 'flex' }],
    ['stream_options', { stream_options: { include_usage: true } }],
    ['an undefined value', { seed: undefined, tools: undefined }],
    ['all of them', { user: 'bob', metadata: {}, store: false, safety_identifier: 'x', prompt_cache_key: 'y', service_tier: 'auto', stream_options: { include_usage: false }, top_p: undefined }],
  ];
  it.each(same)('does not change with %s', (_, extra) => {
    expect(cacheKey(withBody({ ...base, ...extra }))).toBe(K);
  });

  it('drops ignored fields at the top level only', () => {
    const withNested = (user: string) => cacheKey(withBody({ ...base, messages: [{ role: 'user', content: 'hi', name: user, user }] }));
    expect(withNested('a')).not.toBe(withNested('b'));
  });

  it('stream: true with stream_options keys as stream: true', () => {
    expect(cacheKey(withBody({ ...base, stream: true, stream_options: { include_usage: true } }))).toBe(cacheKey(withBody({ ...base, stream: true })));
  });

  const cacheablePaths: Array<[string, string]> = [
    ['/chat/completions', '/chat/completions'],
    ['/completions', '/completions'],
    ['/embeddings', '/embeddings'],
    ['/responses', '/responses'],
    ['/moderations', '/moderations'],
    ['/v1/chat/completions', '/chat/completions'],
    ['/openai/v1/responses', '/responses'],
    ['/openai/deployments/gpt4/chat/completions?api-version=2024-10-21', '/chat/completions'],
    ['/v1/embeddings/', '/embeddings'],
    // A base path ending in a look-alike segment is still a base path: this is legacy completions.
    ['/xchat/completions', '/completions'],
  ];
  it.each(cacheablePaths)('path %s is %s', (path, op) => {
    expect(cacheableOperationPath(path)).toBe(op);
    expect(cacheKey({ ...chat, path })).toMatch(/^v1:/);
  });

  class Multipart {
    constructor(readonly fields: Record<string, unknown>) {}
  }
  const notCached: Array<[string, CacheKeyInput]> = [
    ['images', { ...chat, path: '/images/generations', body: { model: 'gpt-image-1', prompt: 'a cat' } }],
    ['audio speech', { ...chat, path: '/audio/speech', body: { model: 'tts-1', input: 'hi', voice: 'alloy' } }],
    ['files', { ...chat, path: '/files', body: { purpose: 'batch' } }],
    ['a stored completion', { ...chat, path: '/chat/completions/abc/messages' }],
    ['a response by id', { ...chat, path: '/responses/resp_123' }],
    ['responses input_tokens', { ...chat, path: '/responses/input_tokens' }],
    ['a look-alike path', { ...chat, path: '/v1/xembeddings' }],
    ['a look-alike path (2)', { ...chat, path: '/v1/responses-beta' }],
    ['FormData', { ...chat, path: '/embeddings', body: new FormData() }],
    ['a multipart body object', { ...chat, body: new Multipart({ model: 'm' }) }],
    ['binary', { ...chat, body: new Uint8Array([1, 2]) }],
    ['a Blob', { ...chat, body: new Blob(['x']) }],
    ['a JSON string', { ...chat, body: JSON.stringify(base) }],
    ['an array', { ...chat, body: [base] }],
    ['null', { ...chat, body: null }],
    ['undefined', { ...chat, body: undefined }],
    ['a Blob inside', withBody({ ...base, file: new Blob(['x']) })],
    ['a bigint inside', withBody({ ...base, seed: 1n })],
    ['a function inside', withBody({ ...base, seed: () => 1 })],
    ['previous_response_id', { ...chat, path: '/responses', body: { model: 'gpt-4o', input: 'next', previous_response_id: 'resp_1' } }],
    ['background: true', { ...chat, path: '/responses', body: { model: 'gpt-4o', input: 'hi', background: true } }],
    ['conversation (id)', { ...chat, path: '/responses', body: { model: 'gpt-4o', input: 'hi', conversation: 'conv_1' } }],
    ['conversation (object)', { ...chat, path: '/v1/responses', body: { model: 'gpt-4o', input: 'hi', conversation: { id: 'conv_1' } } }],
    ['a stored prompt without a version', { ...chat, path: '/responses', body: { model: 'gpt-4o', prompt: { id: 'pmpt_1' } } }],
  ];
  it.each(notCached)('is undefined for %s', (_, input) => {
    expect(cacheKey(input)).toBeUndefined();
  });

  const responsesCached: Array<[string, Record<string, unknown>]> = [
    ['plain input', { model: 'gpt-4o', input: 'hi' }],
    ['background: false', { model: 'gpt-4o', input: 'hi', background: false }],
    ['previous_response_id: null', { model: 'gpt-4o', input: 'hi', previous_response_id: null }],
    ['a pinned prompt version', { model: 'gpt-4o', prompt: { id: 'pmpt_1', version: '3' } }],
  ];
  it.each(responsesCached)('caches a Responses call with %s', (_, body) => {
    expect(cacheKey({ ...chat, path: '/responses', body })).toMatch(/^v1:[0-9a-f]{64}$/);
  });

  it('keys the other operations too', () => {
    const e1 = cacheKey({ provider: 'openai', path: '/embeddings', body: { model: 'text-embedding-3-small', input: ['a', 'b'] } });
    const e2 = cacheKey({ provider: 'openai', path: '/embeddings', body: { model: 'text-embedding-3-small', input: ['b', 'a'] } });
    const m = cacheKey({ provider: 'openai', path: '/moderations', body: { model: 'omni-moderation-latest', input: ['a', 'b'] } });
    expect(new Set([e1, e2, m]).size).toBe(3);
    // Same body on two paths: two keys.
    expect(cacheKey({ ...chat, path: '/completions' })).not.toBe(K);
  });
});

describe('canonicalJson', () => {
  const table: Array<[string, unknown, string | undefined]> = [
    ['sorted keys', { b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } }, '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}'],
    ['undefined members dropped', { a: undefined, b: null }, '{"b":null}'],
    ['undefined in arrays is null', [undefined, 1], '[null,1]'],
    ['non-finite numbers are null', [Number.NaN, Number.POSITIVE_INFINITY], '[null,null]'],
    ['strings escaped', { 'k"': 'a\n"b' }, '{"k\\"":"a\\n\\"b"}'],
    ['a null-prototype object', Object.assign(Object.create(null), { b: 2, a: 1 }), '{"a":1,"b":2}'],
    ['a Date', new Date(0), undefined],
    ['a Map', new Map(), undefined],
    ['a symbol', { a: Symbol('s') }, undefined],
  ];
  it.each(table)('%s', (_, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });
});
