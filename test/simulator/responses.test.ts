import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type OpenAI from 'openai';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { countTokens } from '../../src/simulator/tokens';
import { openai, post, recording } from './helpers';

const QUESTION = 'Answer in up to 3 words: Which ocean contains Bouvet Island?';
let sim: Simulator;
let client: OpenAI;

beforeAll(async () => {
  sim = await startSimulator({ seed: 3 });
  client = openai(sim);
});
afterAll(() => sim.close());

describe('responses (non-stream)', () => {
  it('matches the recorded object shape and input token count', async () => {
    const [recorded] = recording('openai-responses-adds-genai-conventions');
    const res = await client.responses.create({ model: 'gpt-4o-mini', input: QUESTION });
    const raw = JSON.parse(JSON.stringify(res));
    delete raw.output_text; // added by the SDK
    expect(Object.keys(raw)).toEqual(Object.keys(recorded!.response));
    expect(Object.keys(res.usage!)).toEqual(Object.keys(recorded!.response.usage));
    expect(res.id).toMatch(/^resp_[0-9a-f]{48}$/);
    expect(res.object).toBe('response');
    expect(res.status).toBe('completed');
    expect(res.model).toBe('gpt-4o-mini-2024-07-18');
    expect(res.usage!.input_tokens).toBe(22);
    expect(res.usage!.output_tokens).toBe(countTokens(res.output_text, 'o200k_base'));
    expect(res.usage!.input_tokens_details.cached_tokens).toBe(0);
    expect(res.usage!.output_tokens_details.reasoning_tokens).toBe(0);
    const message = res.output[0]!;
    expect(message.type).toBe('message');
    expect(Object.keys(message)).toEqual(Object.keys(recorded!.response.output[0]));
  });

  it('accepts instructions and message-array input (instructions counted as recorded: 28)', async () => {
    const [recorded] = recording('openai-responses-records-system-instructions');
    const res = await client.responses.create(recorded!.request as any);
    expect(res.instructions).toBe('Answer in up to 3 words.');
    expect(res.usage!.input_tokens).toBe(28);
    const array = await client.responses.create({ model: 'gpt-4o-mini', input: [{ role: 'user', content: QUESTION }] });
    expect(array.usage!.input_tokens).toBe(22);
  });

  it('stops at max_output_tokens with status incomplete', async () => {
    const res = await client.responses.create({ model: 'gpt-4o-mini', input: QUESTION, max_output_tokens: 16 });
    expect(res.status).toBe('incomplete');
    expect(res.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(res.max_output_tokens).toBe(16);
    expect(res.usage!.output_tokens).toBe(16);
  });

  it('adds a reasoning item and reasoning tokens for reasoning models', async () => {
    const res = await client.responses.create({ model: 'o4-mini', input: QUESTION, reasoning: { effort: 'high' } });
    expect(res.output.map((o) => o.type)).toEqual(['reasoning', 'message']);
    expect(res.reasoning?.effort).toBe('high');
    const reasoning = res.usage!.output_tokens_details.reasoning_tokens;
    expect(reasoning).toBeGreaterThan(0);
    expect(res.usage!.output_tokens).toBe(reasoning + countTokens(res.output_text, 'o200k_base'));
  });

  it('calls function tools, then answers their output with text', async () => {
    const tools = [
      {
        type: 'function' as const,
        name: 'get_weather',
        strict: true,
        parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'], additionalProperties: false },
      },
    ];
    const first = await client.responses.create({ model: 'gpt-4o-mini', input: 'Weather in Paris?', tools });
    const call = first.output[0]!;
    expect(call.type).toBe('function_call');
    if (call.type !== 'function_call') throw new Error('expected a function call');
    expect(call.name).toBe('get_weather');
    expect(JSON.parse(call.arguments)).toHaveProperty('location');
    const second = await client.responses.create({
      model: 'gpt-4o-mini',
      tools,
      input: [{ role: 'user', content: 'Weather in Paris?' }, call, { type: 'function_call_output', call_id: call.call_id, output: '22C and sunny' }],
    });
    expect(second.output_text).toContain('22C and sunny');
  });

  it('returns JSON for text.format json_schema', async () => {
    const res = await client.responses.create({
      model: 'gpt-4o-mini',
      input: QUESTION,
      text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object', properties: { ocean: { type: 'string' } }, required: ['ocean'], additionalProperties: false }, strict: true } },
    });
    expect(typeof JSON.parse(res.output_text).ocean).toBe('string');
  });
});

describe('responses (stream)', () => {
  it('emits the full event sequence with consecutive sequence numbers', async () => {
    const res = await post(`${sim.openaiBaseURL}/responses`, { model: 'gpt-4o-mini', input: QUESTION, stream: true });
    const text = await res.text();
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    const events = text
      .split('\n\n')
      .filter((f) => f.startsWith('event: '))
      .map((f) => {
        const [eventLine, dataLine] = f.split('\n');
        const data = JSON.parse(dataLine!.slice('data: '.length));
        expect(eventLine).toBe(`event: ${data.type}`);
        return data;
      });
    const types = events.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    expect(types.slice(-4)).toEqual(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
    expect(types.slice(4, -4).every((t) => t === 'response.output_text.delta')).toBe(true);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const deltas = events
      .filter((e) => e.type === 'response.output_text.delta')
      .map((e) => e.delta)
      .join('');
    const done = events.find((e) => e.type === 'response.output_text.done');
    expect(deltas).toBe(done.text);
    const completed = events.at(-1).response;
    expect(completed.usage.input_tokens).toBe(22);
    expect(completed.usage.input_tokens_details).toEqual({ cached_tokens: 0 });
    expect(completed.usage.output_tokens_details).toEqual({ reasoning_tokens: 0 });
    expect(events[0].response.status).toBe('in_progress');
  });

  it('is consumed by the SDK stream helper, with the same text as non-stream', async () => {
    const plain = await client.responses.create({ model: 'gpt-4o-mini', input: QUESTION });
    const stream = client.responses.stream({ model: 'gpt-4o-mini', input: QUESTION });
    let text = '';
    stream.on('response.output_text.delta', (e) => (text += e.delta));
    const final = await stream.finalResponse();
    expect(text).toBe(plain.output_text);
    expect(final.output_text).toBe(plain.output_text);
    expect(final.usage).toEqual(plain.usage);
  });

  it('ends with response.incomplete when max_output_tokens is hit', async () => {
    const types: string[] = [];
    for await (const event of await client.responses.create({ model: 'gpt-4o-mini', input: QUESTION, max_output_tokens: 16, stream: true })) types.push(event.type);
    expect(types.at(-1)).toBe('response.incomplete');
  });

  it('streams function call arguments', async () => {
    const types: string[] = [];
    let args = '';
    const tools = [{ type: 'function' as const, name: 'lookup', strict: false, parameters: { type: 'object', properties: { city: { type: 'string' } } } }];
    for await (const e of await client.responses.create({ model: 'gpt-4o-mini', input: 'Where?', tools, stream: true })) {
      types.push(e.type);
      if (e.type === 'response.function_call_arguments.done') args = e.arguments;
    }
    expect(types).toContain('response.function_call_arguments.delta');
    expect(JSON.parse(args)).toHaveProperty('city');
  });
});
