import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { runObserved, sumOf } from '../helpers/observed-run';
import { REPO } from '../helpers/run-app';

/**
 * GenAI semantic conventions v1.41 in full, on spans and in a real scrape: reasoning and
 * cache-creation tokens under their convention names (the old reasoning name kept one release),
 * `gen_ai.request.stream`, `gen_ai.response.time_to_first_chunk`, and the
 * `gen_ai.client.operation.time_per_output_chunk` histogram for streams.
 */
let sim: Simulator;
let cache: Server;
let cacheUrl: string;
beforeAll(async () => {
  sim = await startSimulator({ seed: 8, chunkDelayMs: 2 });
  cache = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'chatcmpl-cache',
          object: 'chat.completion',
          created: 1,
          model: 'gpt-4o-mini-2024-07-18',
          choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 2048, completion_tokens: 1, total_tokens: 2049, prompt_tokens_details: { cached_tokens: 0, cache_creation_tokens: 2000 } },
        }),
      );
    });
  });
  await new Promise<void>((r) => cache.listen(0, '127.0.0.1', r));
  cacheUrl = `http://127.0.0.1:${(cache.address() as { port: number }).port}`;
});
afterAll(async () => {
  await sim?.close();
  await new Promise((r) => cache?.close(r));
});

describe('GenAI conventions v1.41', () => {
  it('on spans and in the scrape', async () => {
    const r = await runObserved({ script: resolve(REPO, 'test/fixtures/semconv-app.cjs'), env: { SIM_URL: sim.url, CACHE_URL: cacheUrl } });
    expect(r.code, r.stderr).toBe(0);
    const chat = (model: string, stream: boolean) => r.spans.find((s) => s.attributes['gen_ai.request.model'] === model && s.attributes['gen_ai.request.stream'] === stream)!;

    const reasoning = chat('o3-mini', false);
    expect(reasoning).toBeDefined();
    expect(reasoning.attributes['gen_ai.usage.reasoning.output_tokens']).toBeGreaterThan(0);
    expect(reasoning.attributes['llm_governor.usage.reasoning_tokens']).toBe(reasoning.attributes['gen_ai.usage.reasoning.output_tokens']);
    expect(reasoning.attributes['gen_ai.response.time_to_first_chunk']).toBeUndefined();

    const streamed = chat('gpt-4o-mini', true);
    expect(streamed).toBeDefined();
    const ttfc = streamed.attributes['gen_ai.response.time_to_first_chunk'] as number;
    expect(ttfc).toBeGreaterThan(0);
    expect(ttfc).toBeLessThan(Number(streamed.endNs - streamed.startNs) / 1e9);

    const cached = r.spans.find((s) => s.attributes['server.address'] === '127.0.0.1' && s.attributes['gen_ai.usage.cache_creation.input_tokens'] !== undefined)!;
    expect(cached.attributes['gen_ai.usage.cache_creation.input_tokens']).toBe(2000);
    expect(cached.attributes['gen_ai.request.stream']).toBe(false);

    // The histogram: one measurement per chunk after the first, with the advised buckets.
    const chunks = streamed.attributes['llm_governor.stream.chunks'] as number;
    expect(sumOf(r.samples, 'gen_ai_client_operation_time_per_output_chunk_count')).toBe(chunks - 1);
    const les = r.samples.filter((s) => s.name === 'gen_ai_client_operation_time_per_output_chunk_bucket').map((s) => s.labels.le);
    expect(les.slice(0, 3)).toEqual(['0.01', '0.02', '0.04']);
    expect(sumOf(r.samples, 'gen_ai_client_operation_time_to_first_chunk_count')).toBe(1);
  });
});
