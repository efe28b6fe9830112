import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APIConnectionError, AuthenticationError, NotFoundError } from 'openai';
import OpenAI from 'openai';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { openai, post } from './helpers';

const BODY = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }] };

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());

describe('addresses', () => {
  it('exposes the base URLs', () => {
    expect(sim.url).toBe(`http://127.0.0.1:${sim.port}`);
    expect(sim.port).toBeGreaterThan(0);
    expect(sim.openaiBaseURL).toBe(`${sim.url}/v1`);
    expect(sim.azureEndpoint).toBe(sim.url);
    expect(sim.xaiBaseURL).toBe(`${sim.url}/xai/v1`);
  });
});

describe('errors', () => {
  it('401s without credentials, in the real shape', async () => {
    const res = await fetch(`${sim.openaiBaseURL}/chat/completions`, { method: 'POST', body: JSON.stringify(BODY) });
    expect(res.status).toBe(401);
    const body = await res.json();
    expect(Object.keys(body.error)).toEqual(['message', 'type', 'param', 'code']);
    expect(body.error.message).toMatch(/^You didn't provide an API key/);
    const c = new OpenAI({ baseURL: sim.openaiBaseURL, apiKey: 'sk', maxRetries: 0, defaultHeaders: { authorization: null } });
    await expect(c.chat.completions.create(BODY)).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('skips auth when requireAuth is false', async () => {
    const open = await startSimulator({ requireAuth: false });
    try {
      const res = await fetch(`${open.openaiBaseURL}/chat/completions`, { method: 'POST', body: JSON.stringify(BODY) });
      expect(res.status).toBe(200);
    } finally {
      await open.close();
    }
  });

  it('404s unknown paths with the real error shape', async () => {
    const res = await post(`${sim.openaiBaseURL}/nothing/here`, {});
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { message: 'Invalid URL (POST /v1/nothing/here)', type: 'invalid_request_error', param: null, code: null } });
    const top = await post(`${sim.url}/elsewhere`, {});
    expect(top.status).toBe(404);
    await expect(openai(sim).models.retrieve('no-such-model')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('400s a body that is not JSON', async () => {
    const res = await fetch(`${sim.openaiBaseURL}/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer k' }, body: '{nope' });
    expect(res.status).toBe(400);
    expect((await res.json()).error.type).toBe('invalid_request_error');
  });
});

describe('headers', () => {
  it('counts requests down in the rate-limit window', async () => {
    const s = await startSimulator();
    try {
      const a = await post(`${s.openaiBaseURL}/chat/completions`, BODY);
      const b = await post(`${s.openaiBaseURL}/chat/completions`, BODY);
      expect(a.headers.get('x-ratelimit-limit-requests')).toBe('10000');
      expect(a.headers.get('x-ratelimit-remaining-requests')).toBe('9999');
      expect(b.headers.get('x-ratelimit-remaining-requests')).toBe('9998');
      expect(Number(b.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThan(Number(b.headers.get('x-ratelimit-limit-tokens')));
      expect(b.headers.get('x-ratelimit-reset-requests')).toBe('12ms');
      expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
    } finally {
      await s.close();
    }
  });
});

describe('stats, requests and reset', () => {
  it('records every request in order, with parsed bodies and headers', async () => {
    const s = await startSimulator();
    try {
      const c = openai(s);
      await c.chat.completions.create({ ...BODY, user: 'u-1' });
      await c.embeddings.create({ model: 'text-embedding-3-small', input: 'x' });
      await c.chat.completions.create(BODY, { headers: { 'x-simulator-fault': '500' } }).catch(() => undefined);
      await post(`${s.url}/nowhere`, {});
      const reqs = s.requests();
      expect(reqs.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v1/chat/completions', 'POST /v1/embeddings', 'POST /v1/chat/completions', 'POST /nowhere']);
      expect(reqs[0]!.body).toEqual({ ...BODY, user: 'u-1' });
      expect(reqs[0]!.model).toBe('gpt-4o-mini');
      expect(reqs[0]!.provider).toBe('openai');
      expect(reqs[0]!.headers['authorization']).toBe('Bearer sk-test');
      expect(reqs[0]!.at).toBeLessThanOrEqual(Date.now());
      expect(s.stats()).toEqual({
        total: 4,
        byPath: { '/v1/chat/completions': 2, '/v1/embeddings': 1, '/nowhere': 1 },
        byProvider: { openai: 4 },
        byModel: { 'gpt-4o-mini': 2, 'text-embedding-3-small': 1 },
        faults: { '500': 1 },
      });
      s.reset();
      expect(s.requests()).toEqual([]);
      expect(s.stats()).toEqual({ total: 0, byPath: {}, byProvider: {}, byModel: {}, faults: {} });
    } finally {
      await s.close();
    }
  });

  it('returns copies, not live views', async () => {
    const before = sim.stats();
    before.total = 1000;
    expect(sim.stats().total).not.toBe(1000);
  });
});

describe('timing and lifecycle', () => {
  it('delays responses by latencyMs (±20%)', async () => {
    const s = await startSimulator({ latencyMs: 120 });
    try {
      const t = Date.now();
      await openai(s).chat.completions.create(BODY);
      const elapsed = Date.now() - t;
      expect(elapsed).toBeGreaterThanOrEqual(90);
      expect(elapsed).toBeLessThan(1000);
    } finally {
      await s.close();
    }
  });

  it('spaces stream chunks by chunkDelayMs', async () => {
    const s = await startSimulator({ chunkDelayMs: 10 });
    try {
      const t = Date.now();
      let chunks = 0;
      for await (const _ of await openai(s).chat.completions.create({ ...BODY, stream: true })) chunks++;
      expect(Date.now() - t).toBeGreaterThanOrEqual(chunks * 10 * 0.8);
    } finally {
      await s.close();
    }
  });

  it('close() destroys hanging sockets promptly and can be called twice', async () => {
    const s = await startSimulator();
    const c = openai(s, { timeout: 30_000 });
    const pending = c.chat.completions.create(BODY, { headers: { 'x-simulator-fault': 'hang' } });
    const outcome = pending.then(
      () => 'answered',
      (err) => err,
    );
    await new Promise((r) => setTimeout(r, 50));
    const t = Date.now();
    await Promise.all([s.close(), s.close()]);
    expect(Date.now() - t).toBeLessThan(1000);
    expect(await outcome).toBeInstanceOf(APIConnectionError);
  });

  it('listens on a requested port', async () => {
    const probe = await startSimulator();
    const port = probe.port;
    await probe.close();
    const s = await startSimulator({ port });
    try {
      expect(s.port).toBe(port);
    } finally {
      await s.close();
    }
  });
});
