import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { parsePrometheusText } from '../../src/util/prometheus-text';
import { sumOf } from '../helpers/observed-run';
import { startOtlpReceiver, type TestSpan } from '../helpers/otlp';
import { freePort, REPO, runApp } from '../helpers/run-app';

/**
 * One row per way an app can take an answer from the SDK. In every row, while the app is still
 * running (a server would be), the call's span has ended exactly once, with the provider's own
 * usage (not an estimate), its duration is in the next scrape, and its budget reservation is
 * settled (nothing reserved, the real cost spent). After the exit, no second span appears.
 */
let sim: Simulator;
beforeAll(async () => {
  // Chunks a few ms apart, as a provider sends them: an abort lands mid-body. (At zero latency
  // the whole body is in before the app reads its second chunk, and undici can then leave an
  // aborted read pending forever, bare SDK or not.)
  sim = await startSimulator({ seed: 3, chunkDelayMs: 2 });
});
afterAll(async () => sim?.close());

const app = resolve(REPO, 'test/fixtures/answer-paths-app.cjs');

type Row = { row: string; outcome?: string; spans?: number; operation?: string };
const rows: Row[] = [
  { row: 'await' },
  { row: 'withResponse' },
  { row: 'asResponse json()' },
  { row: 'asResponse text()' },
  { row: 'asResponse body stream' },
  { row: 'asResponse never read' },
  { row: 'parse()' },
  { row: 'responses.create', operation: 'chat' },
  { row: 'embeddings', operation: 'embeddings' },
  { row: 'stream read to the end', outcome: 'completed' },
  { row: 'stream broken off', outcome: 'broken' },
  { row: 'stream aborted', outcome: 'aborted' },
  { row: 'stream failing mid-body', outcome: 'error' },
  { row: 'stream withResponse', outcome: 'completed' },
  { row: 'stream tee()', outcome: 'completed' },
  { row: 'stream toReadableStream()', outcome: 'completed' },
  { row: 'stream asResponse text()', outcome: 'completed' },
  { row: 'stream asResponse body stream', outcome: 'completed' },
  { row: 'stream asResponse cancelled', outcome: 'broken' },
  { row: 'stream helper finalChatCompletion()', outcome: 'completed' },
  { row: 'responses stream', outcome: 'completed', operation: 'chat' },
  { row: 'rejected before the stream' },
];

const governed = (spans: TestSpan[]) => spans.filter((s) => typeof s.attributes['gen_ai.operation.name'] === 'string');

describe('every way of taking an answer ends the call once, with real usage, while the app runs', () => {
  for (const r of rows) {
    it(r.row, async () => {
      const otlp = await startOtlpReceiver();
      const port = await freePort();
      let before: TestSpan[] = [];
      let scrape = '';
      try {
        const run = await runApp({
          script: app,
          preload: 'require',
          nodeArgs: ['--expose-gc'],
          env: {
            SIM_URL: sim.url,
            ROW: r.row,
            LLM_GOVERNOR_DAILY_BUDGET_USD: '100',
            OTEL_TRACES_EXPORTER: 'otlp',
            OTEL_LOGS_EXPORTER: 'none',
            OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
            OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
            OTEL_BSP_SCHEDULE_DELAY: '50',
            OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
            OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
          },
          onReady: async (child) => {
            const deadline = Date.now() + 3_000;
            while (Date.now() < deadline && governed(otlp.spans).length === 0) await new Promise((res) => setTimeout(res, 50));
            await new Promise((res) => setTimeout(res, 150)); // a second span would have come by now
            before = [...governed(otlp.spans)];
            scrape = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
            child.stdin!.end();
          },
        });
        expect(run.code, run.stderr).toBe(0);
        await new Promise((res) => setTimeout(res, 100));
        const line = JSON.parse(run.stdout.split('\n').find((l) => l.startsWith('{'))!);
        expect(line.row).toBe(r.row);

        // Ended once, before the exit; nothing more at the exit.
        expect(before, JSON.stringify(line)).toHaveLength(1);
        expect(governed(otlp.spans)).toHaveLength(1);
        const span = before[0]!;
        expect(span.attributes['gen_ai.operation.name']).toBe(r.operation ?? 'chat');
        if (r.outcome) expect(span.attributes['llm_governor.stream.outcome']).toBe(r.outcome);
        else expect(span.attributes['llm_governor.stream.outcome']).toBeUndefined();

        const samples = parsePrometheusText(scrape);
        expect(sumOf(samples, 'gen_ai_client_operation_duration_count')).toBe(1);
        expect(sumOf(samples, 'llm_governor_budget_reserved')).toBe(0);
        if (r.row === 'rejected before the stream') {
          expect(line.seen).toEqual(['BadRequestError', 400]);
          expect(span.status.code).toBe(2);
          expect(sumOf(samples, 'llm_governor_budget_spent')).toBe(0);
          return;
        }
        if (r.outcome === 'broken' || r.outcome === 'aborted' || r.outcome === 'error') {
          // Stopped early: the provider's usage if it had come (the whole body may already have
          // arrived), else an estimate from what was read, flagged as one.
          expect(span.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
          expect([undefined, true]).toContain(span.attributes['llm_governor.usage.estimated']);
          expect(sumOf(samples, 'llm_governor_budget_spent')).toBeCloseTo(span.attributes['llm_governor.cost.usd'] as number, 12);
          return;
        }
        // The provider's own usage, never an estimate, priced and spent.
        expect(span.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
        if (r.operation !== 'embeddings') expect(span.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
        expect(span.attributes['llm_governor.usage.estimated']).toBeUndefined();
        expect(span.attributes['llm_governor.cost.estimated']).toBeUndefined();
        expect(span.attributes['llm_governor.cost.usd']).toBeGreaterThan(0);
        expect(sumOf(samples, 'llm_governor_budget_spent')).toBeCloseTo(span.attributes['llm_governor.cost.usd'] as number, 12);
        expect(sumOf(samples, 'gen_ai_client_token_usage_count')).toBeGreaterThanOrEqual(1);
      } finally {
        await otlp.close();
      }
    }, 30_000);
  }
});
