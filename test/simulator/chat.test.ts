import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type OpenAI from 'openai';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { countTokens } from '../../src/simulator/tokens';
import { openai, post, recording } from './helpers';

const BOUVET = [{ role: 'user' as const, content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }];

let sim: Simulator;
let client: OpenAI;

beforeAll(async () => {
  sim = await startSimulator({ seed: 7 });
  client = openai(sim);
});
afterAll(() => sim.close());

describe('chat completions (non-stream)', () => {
  it('answers like the recorded exchange: same shape, snapshot model, calibrated usage', async () => {
    const [recorded] = recording('openai-chat-completions-adds-genai-conventions');
    const { data, response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET }).withResponse();
    expect(data.model).toBe('gpt-4o-mini-2024-07-18');
    expect(data.id).toMatch(/^chatcmpl-[A-Za-z0-9]{29}$/);
    expect(Object.keys(data)).toEqual(Object.keys(recorded!.response));
    expect(Object.keys(data.choices[0]!)).toEqual(Object.keys(recorded!.response.choices[0]));
    expect(Object.keys(data.choices[0]!.message)).toEqual(Object.keys(recorded!.response.choices[0].message));
    expect(Object.keys(data.usage!)).toEqual(Object.keys(recorded!.response.usage));
    expect(data.usage!.prompt_tokens).toBe(22);
    expect(data.usage!.completion_tokens).toBe(countTokens(data.choices[0]!.message.content!, 'o200k_base'));
    expect(data.usage!.completion_tokens).toBeGreaterThanOrEqual(15);
    expect(data.usage!.completion_tokens).toBeLessThanOrEqual(60);
    expect(data.usage!.total_tokens).toBe(data.usage!.prompt_tokens + data.usage!.completion_tokens);
    expect(data.usage!.completion_tokens_details!.reasoning_tokens).toBe(0);
    expect(data.choices[0]!.finish_reason).toBe('stop');
    expect(response.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    expect(Number(response.headers.get('openai-processing-ms'))).toBeGreaterThanOrEqual(0);
    for (const h of ['x-ratelimit-limit-requests', 'x-ratelimit-remaining-requests', 'x-ratelimit-remaining-tokens', 'x-ratelimit-reset-requests']) {
      expect(response.headers.get(h)).toBeTruthy();
    }
  });

  it('counts the system message like the recording (24 tokens)', async () => {
    const [recorded] = recording('openai-chat-completions-adds-genai-conventions-with-system-message');
    const res = await client.chat.completions.create(recorded!.request as any);
    expect(res.usage!.prompt_tokens).toBe(24);
  });

  it('honours n; completion tokens add up over the choices', async () => {
    const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET, n: 3 });
    expect(res.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    const sum = res.choices.reduce((s, c) => s + countTokens(c.message.content!, 'o200k_base'), 0);
    expect(res.usage!.completion_tokens).toBe(sum);
    expect(new Set(res.choices.map((c) => c.message.content)).size).toBe(3);
  });

  it.each([
    ['max_tokens', { max_tokens: 5 }],
    ['max_completion_tokens', { max_completion_tokens: 4 }],
  ])('stops with finish_reason "length" at %s', async (_name, limit) => {
    const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET, ...limit });
    const max = Object.values(limit)[0]!;
    expect(res.choices[0]!.finish_reason).toBe('length');
    expect(res.usage!.completion_tokens).toBe(max);
    expect(countTokens(res.choices[0]!.message.content!, 'o200k_base')).toBe(max);
  });

  it('cuts at a stop sequence', async () => {
    const plain = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET, seed: 3 });
    const text = plain.choices[0]!.message.content!;
    const stop = text.split(' ')[2]!;
    const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET, seed: 3, stop });
    expect(res.choices[0]!.message.content).toBe(text.slice(0, text.indexOf(stop)));
  });

  it('spends reasoning tokens on reasoning models only', async () => {
    const res = await client.chat.completions.create({ model: 'gpt-5-mini', messages: BOUVET });
    const reasoning = res.usage!.completion_tokens_details!.reasoning_tokens!;
    expect(res.model).toBe('gpt-5-mini-2025-08-07');
    expect(reasoning).toBeGreaterThan(0);
    expect(res.usage!.completion_tokens).toBe(reasoning + countTokens(res.choices[0]!.message.content!, 'o200k_base'));
    const low = await client.chat.completions.create({ model: 'o4-mini', messages: BOUVET, reasoning_effort: 'minimal' });
    expect(low.usage!.completion_tokens_details!.reasoning_tokens).toBe(0);
  });

  it('returns valid JSON for response_format json_object and json_schema', async () => {
    const obj = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET, response_format: { type: 'json_object' } });
    expect(JSON.parse(obj.choices[0]!.message.content!)).toHaveProperty('answer');
    const schema = {
      type: 'object',
      properties: {
        city: { type: 'string' },
        temperature: { type: 'number' },
        days: { type: 'integer' },
        tags: { type: 'array', items: { type: 'string' } },
        unit: { type: 'string', enum: ['c', 'f'] },
      },
      required: ['city', 'temperature', 'days', 'tags', 'unit'],
      additionalProperties: false,
    };
    const res = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: BOUVET,
      response_format: { type: 'json_schema', json_schema: { name: 'weather', schema, strict: true } },
    });
    const value = JSON.parse(res.choices[0]!.message.content!);
    expect(Object.keys(value).sort()).toEqual(['city', 'days', 'tags', 'temperature', 'unit']);
    expect(typeof value.city).toBe('string');
    expect(typeof value.temperature).toBe('number');
    expect(Number.isInteger(value.days)).toBe(true);
    expect(Array.isArray(value.tags)).toBe(true);
    expect(['c', 'f']).toContain(value.unit);
  });

  it('reports cached prompt tokens when a long prompt prefix repeats', async () => {
    const long = [
      { role: 'system' as const, content: 'policy '.repeat(1500) },
      { role: 'user' as const, content: 'first question' },
    ];
    const first = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: long });
    expect(first.usage!.prompt_tokens).toBeGreaterThan(1024);
    expect(first.usage!.prompt_tokens_details!.cached_tokens).toBe(0);
    const second = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [long[0]!, { role: 'user', content: 'second question' }] });
    const cached = second.usage!.prompt_tokens_details!.cached_tokens!;
    expect(cached).toBeGreaterThanOrEqual(1024);
    expect(cached % 128).toBe(0);
    expect(cached).toBeLessThanOrEqual(second.usage!.prompt_tokens);
  });

  it('omits usage entirely with x-simulator-usage: omit', async () => {
    const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET }, { headers: { 'x-simulator-usage': 'omit' } });
    expect(res).not.toHaveProperty('usage');
  });

  it('rejects a request without messages in the real error shape', async () => {
    const res = await post(`${sim.openaiBaseURL}/chat/completions`, { model: 'gpt-4o-mini' });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { message: "Missing required parameter: 'messages'.", type: 'invalid_request_error', param: 'messages', code: 'missing_required_parameter' },
    });
  });
});

describe('tool calls', () => {
  const [call, followUp] = recording('openai-chat-completions-records-tool-calls');

  it('answers a user turn with a tool call (57 prompt tokens, as recorded)', async () => {
    const res = await client.chat.completions.create(call!.request as any);
    const choice = res.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const toolCall = choice.message.tool_calls![0]!;
    expect(toolCall.id).toMatch(/^call_[A-Za-z0-9]{24}$/);
    expect(toolCall.type).toBe('function');
    if (toolCall.type !== 'function') throw new Error('expected a function call');
    expect(toolCall.function.name).toBe('get_weather');
    expect(typeof JSON.parse(toolCall.function.arguments).location).toBe('string');
    expect(res.usage!.prompt_tokens).toBe(57);
    expect(res.usage!.completion_tokens).toBe(countTokens(toolCall.function.arguments, 'o200k_base') + 10);
  });

  it('answers tool results with text (125 prompt tokens, as recorded)', async () => {
    const res = await client.chat.completions.create(followUp!.request as any);
    expect(res.choices[0]!.finish_reason).toBe('stop');
    expect(res.choices[0]!.message.content).toContain('25 degrees and sunny');
    expect(res.usage!.prompt_tokens).toBe(125);
  });

  it('follows tool_choice: none answers with text, a named function is always called', async () => {
    const none = await client.chat.completions.create({ ...(call!.request as any), tool_choice: 'none' });
    expect(none.choices[0]!.message.tool_calls).toBeUndefined();
    const tools = [...call!.request.tools, { type: 'function', function: { name: 'send_email', parameters: { type: 'object', properties: { recipient_email: { type: 'string' } } } } }];
    const named = await client.chat.completions.create({ ...(followUp!.request as any), tools, tool_choice: { type: 'function', function: { name: 'send_email' } } });
    const tc = named.choices[0]!.message.tool_calls![0]!;
    expect(tc.type === 'function' && tc.function.name).toBe('send_email');
    expect(tc.type === 'function' && JSON.parse(tc.function.arguments).recipient_email).toMatch(/@example\.com$/);
  });

  it('streams tool calls that the SDK reassembles', async () => {
    const stream = client.chat.completions.stream(call!.request as any);
    const final = await stream.finalChatCompletion();
    const tc = final.choices[0]!.message.tool_calls![0]!;
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    expect(tc.type === 'function' && JSON.parse(tc.function.arguments)).toHaveProperty('location');
  });
});

describe('chat completions (stream)', () => {
  async function rawStream(extra: Record<string, unknown>, headers: Record<string, string> = {}): Promise<string> {
    const res = await post(`${sim.openaiBaseURL}/chat/completions`, { model: 'gpt-4o-mini', messages: BOUVET, stream: true, ...extra }, headers);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    return res.text();
  }
  const chunks = (text: string) =>
    text
      .split('\n\n')
      .filter(Boolean)
      .map((f) => f.slice('data: '.length));

  it('frames chunks like the recording WITHOUT include_usage: no usage key anywhere', async () => {
    const [recorded] = recording('openai-streaming-chat-completions-adds-genai-conventions');
    const text = await rawStream({});
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(text).not.toContain('usage');
    const ours = chunks(text);
    const theirs = chunks(recorded!.response);
    expect(ours.at(-1)).toBe('[DONE]');
    const parsed = ours.slice(0, -1).map((c) => JSON.parse(c));
    const reference = theirs.slice(0, -1).map((c) => JSON.parse(c));
    expect(Object.keys(parsed[0])).toEqual(Object.keys(reference[0]));
    expect(parsed[0].choices[0]).toEqual(reference[0].choices[0]); // role chunk: content '', refusal null
    expect(Object.keys(parsed[1].choices[0])).toEqual(Object.keys(reference[1].choices[0]));
    expect(parsed.at(-1).choices[0]).toEqual(reference.at(-1).choices[0]); // {delta: {}, finish_reason: 'stop'}
    expect(new Set(parsed.map((c) => c.id)).size).toBe(1);
  });

  it('frames chunks like the recording WITH include_usage: usage null on each chunk, then choices [] + usage', async () => {
    const [recorded] = recording('openai-streaming-chat-completions-records-usage');
    const parsed = chunks(await rawStream({ stream_options: { include_usage: true } }))
      .slice(0, -1)
      .map((c) => JSON.parse(c));
    const reference = chunks(recorded!.response)
      .slice(0, -1)
      .map((c) => JSON.parse(c));
    for (const chunk of parsed.slice(0, -1)) {
      expect(chunk.usage).toBeNull();
      expect(chunk.choices).toHaveLength(1);
      expect(Object.keys(chunk)).toEqual(Object.keys(reference[0]));
    }
    const last = parsed.at(-1);
    expect(Object.keys(last)).toEqual(Object.keys(reference.at(-1)));
    expect(last.choices).toEqual([]);
    expect(last.usage.prompt_tokens).toBe(reference.at(-1).usage.prompt_tokens);
    expect(Object.keys(last.usage)).toEqual(Object.keys(reference.at(-1).usage));
    const text = parsed.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(last.usage.completion_tokens).toBe(countTokens(text, 'o200k_base'));
  });

  it('streams n choices one after the other, then one finish chunk per choice', async () => {
    const parsed = chunks(await rawStream({ n: 2 }))
      .slice(0, -1)
      .map((c) => JSON.parse(c));
    const indexes = parsed.map((c) => c.choices[0].index);
    const finishes = parsed.filter((c) => c.choices[0].finish_reason).map((c) => c.choices[0].index);
    expect(finishes).toEqual([0, 1]);
    expect(indexes.slice(0, indexes.indexOf(1)).every((i) => i === 0)).toBe(true);
  });

  it('gives the same text streamed and not streamed, and the SDK sees usage only when asked', async () => {
    const plain = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET });
    let text = '';
    let usage: unknown;
    for await (const chunk of await client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET, stream: true, stream_options: { include_usage: true } })) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(plain.choices[0]!.message.content);
    expect(usage).toEqual(plain.usage);
    let sawUsage = false;
    for await (const chunk of await client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET, stream: true })) {
      if (chunk.usage) sawUsage = true;
    }
    expect(sawUsage).toBe(false);
  });

  it('sends no usage chunk with include_usage when usage is omitted', async () => {
    const text = await rawStream({ stream_options: { include_usage: true } }, { 'x-simulator-usage': 'omit' });
    expect(text).not.toContain('usage');
  });
});

describe('determinism', () => {
  it('is deterministic per seed and request; other seeds answer differently', async () => {
    const ask = async (s: Simulator) => (await openai(s).chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET })).choices[0]!.message.content;
    const a = await startSimulator({ seed: 11 });
    const b = await startSimulator({ seed: 11 });
    const c = await startSimulator({ seed: 12 });
    try {
      const first = await ask(a);
      expect(await ask(a)).toBe(first);
      expect(await ask(b)).toBe(first);
      expect(await ask(c)).not.toBe(first);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('varies the answer with the request `seed` parameter', async () => {
    const a = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET, seed: 1 });
    const b = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: BOUVET, seed: 2 });
    expect(a.choices[0]!.message.content).not.toBe(b.choices[0]!.message.content);
  });
});
