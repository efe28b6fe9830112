import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../../src/util/prometheus-text';
import { freePort, REPO, runApp } from '../helpers/run-app';

/**
 * A hostile upstream cannot hurt the app: 4000 answers, each with a new 10 KB model name and an
 * absurd rate-limit reset. Every label from the wire is bounded (the first ones kept, the rest
 * folded into `other` and counted), the reset is clamped to the window, RSS stays flat and the
 * scrape stays small and fast.
 */
let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const model = `m-${randomBytes(5120).toString('hex')}`;
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-ratelimit-remaining-requests': '1000',
        'x-ratelimit-reset-requests': '99999h',
        'x-ratelimit-remaining-tokens': '5',
        'x-ratelimit-reset-tokens': '1e12ms',
      });
      res.end(
        JSON.stringify({
          id: 'x',
          object: 'chat.completion',
          created: 1,
          model,
          choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 8, completion_tokens: 1, total_tokens: 9 },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => new Promise((r) => server?.close(r)));

describe('a hostile upstream', () => {
  it('4000 distinct 10 KB model names: bounded series, flat RSS, a fast scrape', async () => {
    const port = await freePort();
    let scrape = '';
    let scrapeMs = 0;
    const r = await runApp({
      script: resolve(REPO, 'test/fixtures/hostile-load-app.cjs'),
      preload: 'require',
      nodeArgs: ['--expose-gc'],
      env: { HOSTILE_URL: url, CALLS: '4000', OTEL_TRACES_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none', OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: String(port) },
      onReady: async (child) => {
        const t = performance.now();
        scrape = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        scrapeMs = performance.now() - t;
        child.stdin!.end();
      },
      timeoutMs: 120_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{'))!);
    expect(out.ok).toBe(4000);
    // Flat: the second half of the run (2000 calls, 20 MB of model names) adds little. Both a bare
    // SDK and this one grow by some 60 MB in their first thousand calls (the allocator's warm-up),
    // then stay flat; an unbounded label set grew by 3 MB per call.
    expect(out.late - out.early).toBeLessThan(20 * 1024 * 1024);
    expect(scrape.length).toBeLessThan(2 * 1024 * 1024);
    expect(scrapeMs).toBeLessThan(2_000);
    const samples = parsePrometheusText(scrape);
    const models = new Set(samples.filter((s) => s.name === 'gen_ai_client_operation_duration_count').map((s) => s.labels.gen_ai_response_model));
    expect(models.size).toBeLessThanOrEqual(101);
    expect(models.has('other')).toBe(true);
    for (const m of models) expect(m.length).toBeLessThanOrEqual(128);
    const folded = samples.filter((s) => s.name === 'llm_governor_labels_folded_total').reduce((a, s) => a + s.value, 0);
    expect(folded).toBeGreaterThan(1000);
  }, 150_000);

  it('a reset of 99999h pauses that host for at most its window, and no other host', async () => {
    const answer = (paused: boolean) =>
      createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          const limits = paused ? { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '99999h' } : {};
          res.writeHead(200, { 'content-type': 'application/json', ...limits });
          res.end(
            JSON.stringify({
              id: 'x',
              object: 'chat.completion',
              created: 1,
              model: 'gpt-4o-mini',
              choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
              usage: { prompt_tokens: 8, completion_tokens: 1, total_tokens: 9 },
            }),
          );
        });
      });
    const hosts = [answer(true), answer(false)];
    const urls = await Promise.all(hosts.map((h) => new Promise<string>((r) => h.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(h.address() as { port: number }).port}`)))));
    const port = await freePort();
    let scrape = '';
    try {
      const r = await runApp({
        script: resolve(REPO, 'test/fixtures/pause-two-hosts-app.cjs'),
        preload: 'require',
        env: { URL_A: urls[0], URL_B: urls[1], OTEL_TRACES_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none', OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: String(port) },
        onReady: async (child) => {
          scrape = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
          child.stdin!.end();
        },
      });
      expect(r.code, r.stderr).toBe(0);
      const [first, other, again] = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('['))!);
      expect(first.ok).toBe(true);
      // Host B never said anything: its calls go on.
      expect(other.ok).toBe(true);
      // Host A said nothing is left for 99999h: clamped to the 60 s window, and said so.
      expect(again).toMatchObject({ ok: false, name: 'RateLimitExceededError', status: 429 });
      expect(again.retryAfterMs).toBeGreaterThan(50_000);
      expect(again.retryAfterMs).toBeLessThanOrEqual(60_000);
      expect(again.message).toMatch(/nothing is left of its requests rate limit for another 60 s/);
      const clamped = parsePrometheusText(scrape).filter((s) => s.name === 'llm_governor_ratelimit_reset_clamped_total');
      expect(clamped.reduce((a, s) => a + s.value, 0)).toBe(1);
    } finally {
      await Promise.all(hosts.map((h) => new Promise((r) => h.close(r))));
    }
  });
});
