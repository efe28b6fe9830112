import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type OpenAI from 'openai';
import { APIConnectionError, APIConnectionTimeoutError, InternalServerError, RateLimitError } from 'openai';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { openai } from './helpers';

const BODY = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }] };

let sim: Simulator;
let client: OpenAI;
beforeAll(async () => {
  sim = await startSimulator({ seed: 4 });
  client = openai(sim, { timeout: 300 });
});
afterAll(() => sim.close());

async function failure(fault: string, stream: boolean, c: OpenAI = client): Promise<any> {
  try {
    const res = await c.chat.completions.create({ ...BODY, stream }, { headers: { 'x-simulator-fault': fault } });
    if (stream) for await (const _chunk of res as AsyncIterable<unknown>) void _chunk;
  } catch (err) {
    return err;
  }
  throw new Error(`fault ${fault} (stream ${stream}) did not fail`);
}

describe.each([false, true])('per-request fault header (stream: %s)', (stream) => {
  it('429 -> RateLimitError with the real body and retry headers', async () => {
    const err = await failure('429;retry-after=0', stream);
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err.status).toBe(429);
    expect(err.code).toBe('rate_limit_exceeded');
    expect(err.type).toBe('requests');
    expect(err.error.message).toMatch(/^Rate limit reached for gpt-4o-mini/);
    expect(err.headers.get('retry-after')).toBe('0');
    expect(err.headers.get('retry-after-ms')).toBe('0');
    expect(err.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it.each([
    ['500', 'The server had an error while processing your request. Sorry about that!'],
    ['503', 'The server is overloaded or not ready yet.'],
  ])('%s -> InternalServerError', async (kind, message) => {
    const err = await failure(kind, stream);
    expect(err).toBeInstanceOf(InternalServerError);
    expect(err.status).toBe(Number(kind));
    expect(err.error).toEqual({ message, type: 'server_error', param: null, code: null });
  });

  it('hang -> APIConnectionTimeoutError with a short timeout', async () => {
    expect(await failure('hang', stream)).toBeInstanceOf(APIConnectionTimeoutError);
  });

  it('reset -> APIConnectionError (not a timeout)', async () => {
    const err = await failure('reset', stream);
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(err).not.toBeInstanceOf(APIConnectionTimeoutError);
  });

  it('truncate -> the body is cut off (terminated)', async () => {
    const err = await failure('truncate', stream);
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toBe('terminated');
  });

  it('malformed -> a JSON parse error', async () => {
    expect(await failure('malformed', stream)).toBeInstanceOf(SyntaxError);
  });
});

describe('fault wire details', () => {
  const raw = (fault: string, extra: Record<string, unknown> = {}) =>
    fetch(`${sim.openaiBaseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'content-type': 'application/json', 'x-simulator-fault': fault },
      body: JSON.stringify({ ...BODY, ...extra }),
    });

  it('truncated streams send some chunks but never [DONE]', async () => {
    const res = await raw('truncate', { stream: true });
    const reader = res.body!.getReader();
    let text = '';
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          text += Buffer.from(value).toString();
        }
      })(),
    ).rejects.toThrow('terminated');
    expect(text.startsWith('data: {')).toBe(true);
    expect(text).not.toContain('[DONE]');
  });

  it('malformed answers are 200 application/json (streams: an invalid data line)', async () => {
    const plain = await raw('malformed');
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('application/json');
    await expect(plain.json()).rejects.toThrow(SyntaxError);
    const stream = await (await raw('malformed', { stream: true })).text();
    const lines = stream.split('\n\n').filter((l) => l.startsWith('data: {'));
    expect(
      lines.filter((l) => {
        try {
          JSON.parse(l.slice(6));
          return false;
        } catch {
          return true;
        }
      }),
    ).toHaveLength(1);
    expect(stream.endsWith('data: [DONE]\n\n')).toBe(true);
  });
});

describe('configured faults', () => {
  it('apply to matching requests, count, and yield to the SDK retry loop', async () => {
    const s = await startSimulator({ faults: [{ kind: '429', count: 2, retryAfterSeconds: 0, match: { path: 'chat/completions', model: 'gpt-4o*' } }] });
    try {
      const retrying = openai(s, { maxRetries: 2 });
      const res = await retrying.chat.completions.create(BODY);
      expect(res.choices).toHaveLength(1);
      expect(s.stats().faults).toEqual({ '429': 2 });
      expect(s.stats().total).toBe(3);
      await retrying.embeddings.create({ model: 'text-embedding-3-small', input: 'x' });
      expect(s.stats().faults).toEqual({ '429': 2 });
    } finally {
      await s.close();
    }
  });

  it('the header takes precedence over configured faults; setFaults and reset replace and rewind', async () => {
    const s = await startSimulator({ faults: [{ kind: '500' }] });
    try {
      const c = openai(s);
      expect(await failure('429;retry-after=0', false, c)).toBeInstanceOf(RateLimitError);
      await expect(c.chat.completions.create(BODY)).rejects.toBeInstanceOf(InternalServerError);
      s.setFaults([{ kind: '503', count: 1 }]);
      await expect(c.chat.completions.create(BODY)).rejects.toMatchObject({ status: 503 });
      await expect(c.chat.completions.create(BODY)).resolves.toBeTruthy();
      s.reset();
      await expect(c.chat.completions.create(BODY)).rejects.toMatchObject({ status: 503 });
      expect(s.stats().faults).toEqual({ '503': 1 });
    } finally {
      await s.close();
    }
  });

  it('draws probabilistic faults deterministically per seed', async () => {
    const outcomes = async (seed: number) => {
      const s = await startSimulator({ seed, faults: [{ kind: '500', probability: 0.5 }] });
      const c = openai(s);
      const out: string[] = [];
      for (let i = 0; i < 12; i++)
        out.push(
          await c.chat.completions.create(BODY).then(
            () => 'ok',
            () => 'fail',
          ),
        );
      await s.close();
      return out.join(',');
    };
    const first = await outcomes(99);
    expect(await outcomes(99)).toBe(first);
    expect(first).toContain('ok');
    expect(first).toContain('fail');
  });
});
