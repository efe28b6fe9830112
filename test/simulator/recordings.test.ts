/** Replays every recorded chat / embeddings request against the simulator and compares the wire shapes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { allRecordings, post, sseData, type Exchange } from './helpers';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ seed: 1 });
});
afterAll(() => sim.close());

const keys = (o: unknown) => Object.keys(o as object);
const recorded = allRecordings().filter(({ exchange }) => /\/(chat\/completions|embeddings)$/.test(exchange.path));
const streaming = recorded.filter(({ exchange }) => exchange.request.stream === true && !exchange.response.includes('empty-choices-regression'));
const plain = recorded.filter(({ exchange }) => exchange.request.stream !== true);

async function replay(exchange: Exchange): Promise<Response> {
  const res = await post(`${sim.url}${exchange.path}`, exchange.request);
  expect(res.status).toBe(exchange.status);
  expect(res.headers.get('content-type')).toBe(exchange.content_type);
  return res;
}

describe('non-stream recordings', () => {
  it.each(plain.map(({ file, exchange }, i) => [`${file}#${i}`, exchange] as const))('%s', async (_name, exchange) => {
    const ours = await (await replay(exchange)).json();
    const theirs = exchange.response;
    expect(keys(ours)).toEqual(keys(theirs));
    expect(ours.usage).toEqual({ ...theirs.usage, ...pick(ours.usage, ['completion_tokens', 'total_tokens']) });
    expect(ours.model).toBe(theirs.model);
    if (theirs.choices) {
      expect(ours.choices).toHaveLength(theirs.choices.length);
      expect(keys(ours.choices[0])).toEqual(keys(theirs.choices[0]));
      expect(keys(ours.choices[0].message).sort()).toEqual(keys(theirs.choices[0].message).sort());
      expect(ours.choices[0].finish_reason).toBe(theirs.choices[0].finish_reason);
    }
  });
});

describe('stream recordings', () => {
  it.each(streaming.map(({ file, exchange }, i) => [`${file}#${i}`, exchange] as const))('%s', async (_name, exchange) => {
    const text = await (await replay(exchange)).text();
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    const ours = sseData(text);
    const theirs = sseData(exchange.response);
    expect(ours.map(keys)).toEqual(ours.map(() => keys(theirs[0])));
    expect(ours[0].choices[0].delta).toEqual(theirs[0].choices[0].delta);
    expect(ours[1].choices[0].delta).toEqual(expect.objectContaining(Object.fromEntries(keys(theirs[1].choices[0].delta).map((k) => [k, expect.anything()]))));
    expect(ours.at(-1).choices.map((c: any) => c.finish_reason)).toEqual(theirs.at(-1).choices.map((c: any) => c.finish_reason));
    const finishes = (chunks: any[]) => chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => c.choices[0].index);
    expect(finishes(ours)).toEqual(finishes(theirs));
  });
});

function pick(o: Record<string, unknown>, names: string[]): Record<string, unknown> {
  return Object.fromEntries(names.map((n) => [n, o[n]]));
}
