// The in-memory store (LRU + TTL + size bound), the entry codec and size cap, and ResponseCache
// over memory. Clocks are injected.
import { metrics } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { configSchema, type ConfigInput } from '../../src/config/schema';
import { MAX_BODY_BYTES, ResponseCache } from '../../src/guards/cache';
import { decodeEntry, encodeEntry, isStorableStatus, storableHeaders, unstorableReason } from '../../src/guards/cache/entry';
import { MemoryCacheStore } from '../../src/guards/cache/memory-store';
import { chooseCacheStore } from '../../src/guards/cache/store';

const clock = (start = 1_000_000) => {
  const c = { t: start, now: () => c.t };
  return c;
};

describe('MemoryCacheStore', () => {
  it('evicts the least recently used entry; a hit makes an entry recent', async () => {
    const c = clock();
    const store = new MemoryCacheStore({ maxEntries: 3, now: c.now });
    await store.set('a', 'A', 60_000);
    await store.set('b', 'B', 60_000);
    await store.set('c', 'C', 60_000);
    expect(store.keys()).toEqual(['a', 'b', 'c']);
    expect(await store.get('a')).toBe('A'); // a is now the most recent
    expect(store.keys()).toEqual(['b', 'c', 'a']);
    await store.set('d', 'D', 60_000); // evicts b
    expect(store.keys()).toEqual(['c', 'a', 'd']);
    expect(await store.get('b')).toBeUndefined();
    await store.set('c', 'C2', 60_000); // overwrite: most recent, no eviction
    expect(store.keys()).toEqual(['a', 'd', 'c']);
    expect(await store.get('c')).toBe('C2');
    await store.set('e', 'E', 60_000); // evicts a
    await store.set('f', 'F', 60_000); // evicts d
    expect(store.keys()).toEqual(['c', 'e', 'f']);
    expect(store.entries).toBe(3);
  });

  it('expires entries after their TTL: a miss, and removed', async () => {
    const c = clock();
    const store = new MemoryCacheStore({ maxEntries: 10, now: c.now });
    await store.set('k', 'V', 1_000);
    await store.set('long', 'L', 5_000);
    c.t += 999;
    expect(await store.get('k')).toBe('V');
    c.t += 1; // exactly at expiry
    expect(await store.get('k')).toBeUndefined();
    expect(store.keys()).toEqual(['long']);
    // A hit does not extend the TTL.
    c.t += 3_999;
    expect(await store.get('long')).toBe('L');
    c.t += 1;
    expect(await store.get('long')).toBeUndefined();
    expect(store.entries).toBe(0);
    // A TTL of 0 (or less) stores nothing.
    await store.set('z', 'Z', 0);
    expect(store.entries).toBe(0);
  });

  it('bounds the total size: evicts least recently used until it fits; a value over the bound is not kept', async () => {
    const store = new MemoryCacheStore({ maxEntries: 100, maxSize: 10, now: clock().now });
    await store.set('a', 'aaaa', 60_000);
    await store.set('b', 'bbbb', 60_000);
    await store.get('a');
    await store.set('c', 'cccc', 60_000); // 12 > 10: evicts b (least recent)
    expect(store.keys()).toEqual(['a', 'c']);
    await store.set('big', 'x'.repeat(11), 60_000);
    expect(store.keys()).toEqual(['a', 'c']);
    await store.set('ten', 'x'.repeat(10), 60_000); // fits alone
    expect(store.keys()).toEqual(['ten']);
    await store.set('ten', 'y', 60_000); // overwrite frees the old size
    await store.set('d', 'dddd', 60_000);
    await store.set('e', 'eeee', 60_000);
    expect(store.keys()).toEqual(['ten', 'd', 'e']);
  });

  it('rejects a bad maxEntries', () => {
    expect(() => new MemoryCacheStore({ maxEntries: 0 })).toThrow(RangeError);
  });
});

describe('entries', () => {
  const statuses: Array<[number, boolean]> = [
    [200, true],
    [201, true],
    [203, true],
    [206, true],
    [299, true],
    [204, false],
    [205, false],
    [199, false],
    [300, false],
    [304, false],
    [400, false],
    [429, false],
    [500, false],
    [200.5, false],
  ];
  it.each(statuses)('status %d storable: %s', (status, ok) => {
    expect(isStorableStatus(status)).toBe(ok);
  });

  it('caps the body at 2 MiB of UTF-8', () => {
    expect(MAX_BODY_BYTES).toBe(2 * 1024 * 1024);
    expect(unstorableReason({ status: 200, body: 'x'.repeat(MAX_BODY_BYTES) })).toBeUndefined();
    expect(unstorableReason({ status: 200, body: 'x'.repeat(MAX_BODY_BYTES + 1) })).toBe('body too large');
    // 'é' is 2 bytes: half as many characters reach the cap.
    expect(unstorableReason({ status: 200, body: 'é'.repeat(MAX_BODY_BYTES / 2) })).toBeUndefined();
    expect(unstorableReason({ status: 200, body: 'é'.repeat(MAX_BODY_BYTES / 2 + 1) })).toBe('body too large');
    expect(unstorableReason({ status: 500, body: '{}' })).toBe('status 500');
  });

  it('keeps replayable headers only, lower-cased', () => {
    expect(
      storableHeaders({
        'Content-Type': 'application/json',
        'x-request-id': 'req_1',
        'openai-processing-ms': '12',
        'Set-Cookie': '__cf_bm=secret',
        'content-length': '99',
        'Content-Encoding': 'gzip',
        'transfer-encoding': 'chunked',
        connection: 'keep-alive',
        'x-number': 5,
      }),
    ).toEqual({ 'content-type': 'application/json', 'x-request-id': 'req_1', 'openai-processing-ms': '12' });
  });

  const decoded: Array<[string, string, boolean]> = [
    ['a valid entry', encodeEntry({ status: 200, headers: { a: 'b' }, body: '{}', storedAt: 5 }), true],
    ['not JSON', '{oops', false],
    ['null', 'null', false],
    ['a 500', JSON.stringify({ status: 500, headers: {}, body: '', storedAt: 1 }), false],
    ['a body that is not text', JSON.stringify({ status: 200, headers: {}, body: {}, storedAt: 1 }), false],
    ['headers with a number', JSON.stringify({ status: 200, headers: { a: 1 }, body: '', storedAt: 1 }), false],
    ['headers as an array', JSON.stringify({ status: 200, headers: [], body: '', storedAt: 1 }), false],
    ['no storedAt', JSON.stringify({ status: 200, headers: {}, body: '' }), false],
  ];
  it.each(decoded)('decodes %s: %s', (_, text, ok) => {
    const entry = decodeEntry(text);
    if (ok) expect(entry).toEqual({ status: 200, headers: { a: 'b' }, body: '{}', storedAt: 5 });
    else expect(entry).toBeUndefined();
  });
});

describe('chooseCacheStore', () => {
  const table: Array<[string, 'auto' | 'memory' | 'redis', string | undefined, string]> = [
    ['auto without redis_url', 'auto', undefined, 'memory'],
    ['auto with redis_url', 'auto', 'redis://h:6379', 'redis'],
    ['memory with redis_url', 'memory', 'redis://h:6379', 'memory'],
    ['redis with redis_url', 'redis', 'redis://h:6379', 'redis'],
    ['redis without redis_url (warns)', 'redis', undefined, 'memory'],
  ];
  it.each(table)('%s → %s', (_, cache_store, redis_url, kind) => {
    const choice = chooseCacheStore({ cache_store, redis_url });
    expect(choice.kind).toBe(kind);
    if (choice.kind === 'redis') expect(choice.url).toBe(redis_url);
    else expect(choice.warning !== undefined).toBe(cache_store === 'redis');
  });
});

describe('ResponseCache (memory)', () => {
  const make = (input: ConfigInput, c = clock()) => new ResponseCache({ config: configSchema.parse({ cache_enabled: true, ...input }), meter: metrics.getMeter('test'), now: c.now });

  it('round-trips an entry with storedAt from the clock, for cache_ttl_seconds', async () => {
    const c = clock(42_000);
    const cache = make({ cache_ttl_seconds: 60 }, c);
    expect(cache.storeKind).toBe('memory');
    expect(await cache.get('v1:k')).toBeUndefined();
    await cache.set('v1:k', { status: 200, headers: { 'content-type': 'application/json', 'set-cookie': 's' }, body: '{"id":"x"}' });
    expect(await cache.get('v1:k')).toEqual({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"id":"x"}', storedAt: 42_000 });
    c.t += 59_999;
    expect((await cache.get('v1:k'))?.body).toBe('{"id":"x"}');
    c.t += 1;
    expect(await cache.get('v1:k')).toBeUndefined();
    await cache.close();
  });

  it('stores a complete SSE body as is', async () => {
    const cache = make({});
    const sse = 'data: {"choices":[{"delta":{"content":"Hi"}}]}\n\ndata: [DONE]\n\n';
    await cache.set('v1:s', { status: 200, headers: { 'content-type': 'text/event-stream' }, body: sse });
    const entry = await cache.get('v1:s');
    expect(entry?.body).toBe(sse);
    const replay = new Response(entry!.body, { status: entry!.status, headers: entry!.headers });
    expect(replay.headers.get('content-type')).toBe('text/event-stream');
    expect(await replay.text()).toBe(sse);
  });

  it('skips bodies over the cap and non-2xx statuses', async () => {
    const cache = make({});
    await cache.set('v1:big', { status: 200, headers: {}, body: 'x'.repeat(MAX_BODY_BYTES + 1) });
    await cache.set('v1:err', { status: 500, headers: {}, body: '{}' });
    await cache.set('v1:empty', { status: 204, headers: {}, body: '' });
    await cache.set('v1:ok', { status: 200, headers: {}, body: 'x'.repeat(MAX_BODY_BYTES) });
    expect(await cache.get('v1:big')).toBeUndefined();
    expect(await cache.get('v1:err')).toBeUndefined();
    expect(await cache.get('v1:empty')).toBeUndefined();
    expect((await cache.get('v1:ok'))?.body.length).toBe(MAX_BODY_BYTES);
  });

  it('keeps cache_max_entries entries', async () => {
    const cache = make({ cache_max_entries: 2 });
    for (const k of ['a', 'b', 'c']) await cache.set(k, { status: 200, headers: {}, body: k });
    expect(await cache.get('a')).toBeUndefined();
    expect((await cache.get('b'))?.body).toBe('b');
    expect((await cache.get('c'))?.body).toBe('c');
  });

  it('hands out copies: changing a returned entry does not change the cache', async () => {
    const cache = make({});
    await cache.set('k', { status: 200, headers: { a: '1' }, body: 'b' });
    const first = await cache.get('k');
    first!.headers.a = 'changed';
    expect((await cache.get('k'))?.headers).toEqual({ a: '1' });
  });
});
