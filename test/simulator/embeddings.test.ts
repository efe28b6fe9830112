import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { embeddingVector, toBase64Float32 } from '../../src/simulator/routes/embeddings';
import { openai, post, recording } from './helpers';
import { AzureOpenAI } from 'openai';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ seed: 5 });
});
afterAll(() => sim.close());

const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

describe('embeddings', () => {
  it('answers the recorded request with the recorded shape and usage', async () => {
    const [recorded] = recording('openai-embeddings-adds-genai-conventions');
    const res = await openai(sim).embeddings.create(recorded!.request as any);
    expect(Object.keys(res)).toEqual(Object.keys(recorded!.response));
    expect(res.usage).toEqual(recorded!.response.usage);
    expect(res.model).toBe('text-embedding-3-small');
    expect(res.data.map((d) => d.index)).toEqual([0, 1, 2, 3]);
    expect(res.data[0]!.embedding).toHaveLength(1536);
    expect(Object.keys(res.data[0]!)).toEqual(Object.keys(recorded!.response.data[0]));
    expect(norm(res.data[0]!.embedding)).toBeCloseTo(1, 5);
  });

  it('serves base64 little-endian float32 (the SDK default) that decodes to the float answer', async () => {
    const client = openai(sim);
    const viaBase64 = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
    const viaFloat = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello', encoding_format: 'float' });
    expect(viaBase64.data[0]!.embedding).toEqual(viaFloat.data[0]!.embedding);
    const raw = await (await post(`${sim.openaiBaseURL}/embeddings`, { model: 'text-embedding-3-small', input: 'hello', encoding_format: 'base64' })).json();
    expect(typeof raw.data[0].embedding).toBe('string');
    const buf = Buffer.from(raw.data[0].embedding, 'base64');
    expect(buf.length).toBe(1536 * 4);
    expect(buf.readFloatLE(0)).toBe(viaFloat.data[0]!.embedding[0]);
  });

  it('honours dimensions, token-array input and the large model size', async () => {
    const client = openai(sim);
    const small = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'], dimensions: 64, encoding_format: 'float' });
    expect(small.data.map((d) => d.embedding.length)).toEqual([64, 64]);
    const tokens = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: [
        [1, 2, 3],
        [4, 5],
      ],
      encoding_format: 'float',
    });
    expect(tokens.usage.prompt_tokens).toBe(5);
    expect(tokens.data).toHaveLength(2);
    const large = await client.embeddings.create({ model: 'text-embedding-3-large', input: 'x', encoding_format: 'float' });
    expect(large.data[0]!.embedding).toHaveLength(3072);
  });

  it('is deterministic per seed and input', () => {
    const a = embeddingVector(1, 'm', 'text', 8);
    expect(embeddingVector(1, 'm', 'text', 8)).toEqual(a);
    expect(embeddingVector(2, 'm', 'text', 8)).not.toEqual(a);
    expect(embeddingVector(1, 'm', 'other', 8)).not.toEqual(a);
    expect(Buffer.from(toBase64Float32([1, -2.5]), 'base64')).toEqual(Buffer.from([0, 0, 0x80, 0x3f, 0, 0, 0x20, 0xc0]));
  });

  it('rejects dimensions for ada-002 like the real API', async () => {
    const res = await post(`${sim.openaiBaseURL}/embeddings`, { model: 'text-embedding-ada-002', input: 'x', dimensions: 8 });
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toBe('This model does not support specifying dimensions.');
  });

  it('works through AzureOpenAI deployments', async () => {
    const client = new AzureOpenAI({ endpoint: sim.azureEndpoint, apiKey: 'k', apiVersion: '2024-10-21', deployment: 'embed-small' });
    const res = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hi' });
    expect(res.data[0]!.embedding).toHaveLength(1536);
    expect(sim.requests().at(-1)!.path).toBe('/openai/deployments/embed-small/embeddings');
  });
});
