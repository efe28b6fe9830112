import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import type { FaultRule } from '../../src/simulator/types';
import { startOtlpReceiver } from '../helpers/otlp';
import { expectSameTranscript } from '../helpers/transcript';
import { expectRebuiltRetries, startTokenServer } from '../helpers/token-server';
import { REPO, runApp, telemetryEnv, type AppRun } from '../helpers/run-app';

/**
 * For each app folder prepared by scripts/compat.mjs (llm-governor installed from `npm pack`, one
 * openai major), the unmodified semantics app behaves exactly as without the preload, under
 * `--require llm-governor/register` and (ESM) `--import llm-governor/register`.
 */
const dirs = (process.env.COMPAT_DIRS ?? '').split(':').filter(Boolean);
if (!dirs.length) throw new Error('COMPAT_DIRS is empty: run the suite through `node scripts/compat.mjs`');

const transcript = (run: AppRun) =>
  run.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ seed: 11 });
});
afterAll(async () => sim?.close());

for (const dir of dirs) {
  const sdkVersion = JSON.parse(readFileSync(join(dir, 'node_modules/openai/package.json'), 'utf8')).version as string;
  const localNode = join(dir, 'node_modules/node/bin/node');
  const node = existsSync(localNode) ? localNode : process.execPath;

  describe(`${basename(dir)} (openai ${sdkVersion}, ${existsSync(localNode) ? 'node from the npm registry' : `node ${process.version}`})`, () => {
    const cjs = join(dir, 'semantics-app.cjs');
    const esm = join(dir, 'esm-app.mjs');
    beforeAll(() => {
      copyFileSync(resolve(REPO, 'test/fixtures/semantics-app.cjs'), cjs);
      copyFileSync(resolve(REPO, 'test/fixtures/esm-app.mjs'), esm);
    });

    it('CommonJS: same transcript with --require llm-governor/register, and one span per call', async () => {
      const otlp = await startOtlpReceiver();
      try {
        sim.reset();
        const bare = await runApp({ script: cjs, cwd: dir, node, preload: 'none', env: { SIM_URL: sim.url, XAI_API_ENDPOINT: sim.xaiBaseURL } });
        sim.reset();
        const run = await runApp({
          script: cjs,
          cwd: dir,
          node,
          preload: 'require',
          register: 'llm-governor/register',
          env: { SIM_URL: sim.url, XAI_API_ENDPOINT: sim.xaiBaseURL, ...telemetryEnv(otlp.url) },
        });
        expect(bare.code, bare.stderr).toBe(0);
        expect(run.code, run.stderr).toBe(0);
        expect(run.stderr).toBe(bare.stderr);
        const a = transcript(bare);
        const b = transcript(run);
        expectSameTranscript(a, b);
        expect(otlp.spans.length).toBeGreaterThanOrEqual(a.length - 1);
        const streams = otlp.spans.filter((s) => s.attributes['llm_governor.stream.outcome'] === 'completed' && s.attributes['gen_ai.operation.name'] === 'chat');
        for (const s of streams) expect(s.attributes['llm_governor.usage.estimated'], s.name).toBeUndefined();
        for (const s of otlp.spans) {
          if (s.status.code === 2 || !['chat', 'embeddings', 'text_completion'].includes(s.attributes['gen_ai.operation.name'] as string)) continue;
          expect(s.attributes['gen_ai.usage.input_tokens'], s.name).toBeGreaterThan(0);
        }
        const providers = new Set(otlp.spans.map((s) => s.attributes['gen_ai.provider.name']));
        expect([...providers].sort()).toEqual(['azure.ai.openai', 'openai', 'x_ai']);
      } finally {
        await otlp.close();
      }
    });

    it('guards: retry, fallback, rate-limit and moderation refusals, cache — with this SDK', async () => {
      const app = join(dir, 'resilience-app.cjs');
      copyFileSync(resolve(REPO, 'test/fixtures/resilience-app.cjs'), app);
      const config = join(dir, 'fallback.json');
      writeFileSync(config, JSON.stringify({ fallbacks: [{ primary: { provider: 'azure.ai.openai', model: 'gpt-4o' }, backups: [{ provider: 'x_ai', model: 'grok-4' }] }] }));
      const go = async (env: Record<string, string>, faults: FaultRule[] = []) => {
        sim.reset();
        sim.setFaults(faults);
        try {
          const r = await runApp({
            script: app,
            cwd: dir,
            node,
            preload: 'require',
            register: 'llm-governor/register',
            env: { SIM_URL: sim.url, OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none', ...env },
          });
          expect(r.code, r.stderr).toBe(0);
          const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
          expect(out.unhandled).toBe(0);
          return { seen: out.seen as any[], chats: sim.requests().filter((q) => q.path.endsWith('/chat/completions')) };
        } finally {
          sim.setFaults([]);
        }
      };
      const retried = await go({}, [{ kind: '429', count: 1, retryAfterSeconds: 0 }]);
      expect(retried.seen[0].ok).toBe(true);
      expect(retried.chats).toHaveLength(2);
      const fellBack = await go(
        { CLIENT: 'azure', MODEL: 'gpt-4o', CALLS: '2', LLM_GOVERNOR_CONFIG: config, LLM_GOVERNOR_MAX_RETRIES: '0', XAI_API_KEY: 'xai-test-0123456789', XAI_API_ENDPOINT: sim.xaiBaseURL },
        [{ kind: '500', match: { provider: 'azure' } }],
      );
      expect(fellBack.seen.map((x) => x.ok && /^grok-4/.test(x.model))).toEqual([true, true]);
      const limited = await go({ CALLS: '3', CONCURRENCY: '3', LLM_GOVERNOR_RATE_LIMIT_RPM: '1', LLM_GOVERNOR_RATE_LIMIT_MAX_WAIT_SECONDS: '0' });
      expect(limited.seen.filter((x) => !x.ok)).toEqual(Array(2).fill({ ok: false, error: 'RateLimitExceededError', status: 429, code: 'rate_limited', apiError: true }));
      const blocked = await go({ PROMPT: 'you idiot', LLM_GOVERNOR_MODERATION_ENDPOINT: 'true' });
      expect(blocked.seen[0]).toEqual({ ok: false, error: 'ContentBlockedError', status: 400, code: 'content_blocked', apiError: true });
      expect(blocked.chats).toHaveLength(0);
      const cached = await go({ CALLS: '3', SAME_PROMPT: '1', LLM_GOVERNOR_CACHE: 'true' });
      expect(cached.seen.every((x) => x.ok)).toBe(true);
      expect(cached.chats).toHaveLength(1);
    });

    it('retries rebuilt as this SDK rebuilds them: new tokens, the next x-stainless-retry-count', async () => {
      const app = join(dir, 'token-refresh-app.cjs');
      copyFileSync(resolve(REPO, 'test/fixtures/token-refresh-app.cjs'), app);
      const server = await startTokenServer();
      try {
        for (const preload of ['none', 'require'] as const) {
          server.reset();
          const r = await runApp({
            script: app,
            cwd: dir,
            node,
            preload,
            register: 'llm-governor/register',
            env: { SERVER_URL: server.url, OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' },
          });
          expect(r.code, r.stderr).toBe(0);
          const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
          // openai 4 has no apiKey function; every major has azureADTokenProvider.
          expect(Object.keys(out).sort()).toEqual(sdkVersion.startsWith('4.') ? ['azureADTokenProvider'] : ['apiKeyFunction', 'azureADTokenProvider']);
          expectRebuiltRetries(expect, out, server.seen);
        }
      } finally {
        await server.close();
      }
    });

    it('ESM: same transcript with --import llm-governor/register, and spans', async () => {
      const otlp = await startOtlpReceiver();
      try {
        const bare = await runApp({ script: esm, cwd: dir, node, preload: 'none', env: { SIM_URL: sim.url } });
        const run = await runApp({ script: esm, cwd: dir, node, preload: 'import', register: 'llm-governor/register', env: { SIM_URL: sim.url, ...telemetryEnv(otlp.url) } });
        expect(bare.code, bare.stderr).toBe(0);
        expect(run.code, run.stderr).toBe(0);
        expect(transcript(run)).toEqual(transcript(bare));
        expect(otlp.spans).toHaveLength(5);
      } finally {
        await otlp.close();
      }
    });
  });
}
