import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI, { RateLimitError } from 'openai';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { countTokens } from '../../src/simulator/tokens';
import { azure, sseData, xai } from './helpers';

const MESSAGES = [{ role: 'user' as const, content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }];
const SAFE = { filtered: false, severity: 'safe' };

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ seed: 21 });
});
afterAll(() => sim.close());

describe('Azure OpenAI', () => {
  it('serves a deployment with content-filter annotations and the api-key header', async () => {
    sim.reset();
    const client = azure(sim, { deployment: 'my-4o-mini' });
    const { data, response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES }).withResponse();
    expect(data.model).toBe('gpt-4o-mini-2024-07-18');
    expect(data.usage!.prompt_tokens).toBe(22);
    const raw = data as any;
    expect(raw.prompt_filter_results).toEqual([
      { prompt_index: 0, content_filter_results: { hate: SAFE, self_harm: SAFE, sexual: SAFE, violence: SAFE, jailbreak: { filtered: false, detected: false } } },
    ]);
    expect(raw.choices[0].content_filter_results.violence).toEqual(SAFE);
    expect(raw.choices[0].content_filter_results.protected_material_text).toEqual({ filtered: false, detected: false });
    expect(raw.system_fingerprint).toMatch(/^fp_[0-9a-f]{10}$/);
    expect(response.headers.get('apim-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const [req] = sim.requests();
    expect(req!.provider).toBe('azure');
    expect(req!.path).toBe('/openai/deployments/my-4o-mini/chat/completions');
    expect(req!.headers['api-key']).toBe('azure-key');
    expect(sim.stats().byProvider).toEqual({ azure: 1 });
  });

  it('routes per-call models to deployments, and streams with the prompt-filter chunk first', async () => {
    sim.reset();
    const client = azure(sim);
    let text = '';
    let usage: any;
    const chunks: any[] = [];
    for await (const chunk of await client.chat.completions.create({ model: 'gpt-4o', messages: MESSAGES, stream: true, stream_options: { include_usage: true } })) {
      chunks.push(chunk);
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(sim.requests()[0]!.path).toBe('/openai/deployments/gpt-4o/chat/completions');
    expect(chunks[0].choices).toEqual([]);
    expect(chunks[0].prompt_filter_results).toHaveLength(1);
    expect(chunks[1].model).toBe('gpt-4o-2024-08-06');
    expect(chunks[2].choices[0].content_filter_results.hate).toEqual(SAFE);
    expect(usage.completion_tokens).toBe(countTokens(text, 'o200k_base'));
  });

  it('serves the Responses API and embeddings through AzureOpenAI', async () => {
    sim.reset();
    const client = azure(sim);
    const res = await client.responses.create({ model: 'gpt-4o-mini', input: 'hello' });
    expect(res.status).toBe('completed');
    const emb = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
    expect(emb.data[0]!.embedding).toHaveLength(1536);
    expect(sim.requests().map((r) => r.path)).toEqual(['/openai/responses', '/openai/deployments/text-embedding-3-small/embeddings']);
  });

  it('accepts the v1 path form (/openai/v1/...) without api-version', async () => {
    const client = new OpenAI({ baseURL: `${sim.azureEndpoint}/openai/v1`, apiKey: 'k', maxRetries: 0 });
    const res = await client.chat.completions.create({ model: 'gpt-4.1', messages: MESSAGES });
    expect(res.model).toBe('gpt-4.1-2025-04-14');
    expect((res as any).prompt_filter_results).toBeDefined();
  });

  it('answers Azure-shaped 404 without api-version and 401 without a key', async () => {
    const noVersion = await fetch(`${sim.azureEndpoint}/openai/deployments/x/chat/completions`, { method: 'POST', headers: { 'api-key': 'k' }, body: '{}' });
    expect(noVersion.status).toBe(404);
    expect(await noVersion.json()).toEqual({ error: { code: '404', message: 'Resource not found' } });
    const noKey = await fetch(`${sim.azureEndpoint}/openai/deployments/x/chat/completions?api-version=2024-10-21`, { method: 'POST', body: '{}' });
    expect(noKey.status).toBe(401);
    expect((await noKey.json()).error.code).toBe('401');
  });

  it('raises RateLimitError for an Azure 429 with its retry-after', async () => {
    const err = await azure(sim)
      .chat.completions.create({ model: 'gpt-4o', messages: MESSAGES }, { headers: { 'x-simulator-fault': '429;retry-after=7' } })
      .catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err.headers.get('retry-after')).toBe('7');
    expect(err.code).toBe('429');
  });
});

describe('xAI', () => {
  it('answers with grok-style ids, fingerprint and usage', async () => {
    sim.reset();
    const res = await xai(sim).chat.completions.create({ model: 'grok-3', messages: MESSAGES });
    expect(res.model).toBe('grok-3');
    expect(res.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
    expect(res.system_fingerprint).toMatch(/^fp_/);
    expect(res).not.toHaveProperty('service_tier');
    const usage = res.usage as any;
    expect(usage.prompt_tokens).toBe(22);
    expect(usage.num_sources_used).toBe(0);
    expect(usage.prompt_tokens_details).toEqual({ text_tokens: 22, audio_tokens: 0, image_tokens: 0, cached_tokens: 0 });
    expect(sim.requests()[0]!.path).toBe('/xai/v1/chat/completions');
    expect(sim.stats().byProvider).toEqual({ xai: 1 });
  });

  it('reports grok reasoning tokens apart from completion tokens, with reasoning_content for grok-3-mini', async () => {
    const res = await xai(sim).chat.completions.create({ model: 'grok-3-mini', messages: MESSAGES });
    const usage = res.usage!;
    const reasoning = usage.completion_tokens_details!.reasoning_tokens!;
    expect(reasoning).toBeGreaterThan(0);
    expect(usage.completion_tokens).toBe(countTokens(res.choices[0]!.message.content!, 'o200k_base'));
    expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens + reasoning);
    expect(typeof (res.choices[0]!.message as any).reasoning_content).toBe('string');
    const grok4 = await xai(sim).chat.completions.create({ model: 'grok-4', messages: MESSAGES });
    expect(grok4.model).toBe('grok-4-0709');
    expect((grok4.choices[0]!.message as any).reasoning_content).toBeUndefined();
  });

  it('streams grok reasoning_content before the content', async () => {
    const res = await fetch(`${sim.xaiBaseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer xai-k', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'grok-3-mini', messages: MESSAGES, stream: true }),
    });
    const deltas = sseData(await res.text()).map((c) => c.choices[0]?.delta ?? {});
    const firstReasoning = deltas.findIndex((d) => d.reasoning_content);
    const firstContent = deltas.findIndex((d) => d.content);
    expect(firstReasoning).toBeGreaterThan(0);
    expect(firstContent).toBeGreaterThan(firstReasoning);
  });
});
