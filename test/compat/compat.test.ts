import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { startOtlpReceiver } from '../helpers/otlp';
import { REPO, runApp, telemetryEnv, type AppRun } from '../helpers/run-app';

/**
 * For each app folder prepared by scripts/compat.mjs (llm-governor installed from `npm pack`, one
 * openai major), the unmodified semantics app behaves exactly as without the preload, under
 * `--require llm-governor/register` and (ESM) `--import llm-governor/register`.
 */
const dirs = (process.env.COMPAT_DIRS ?? '').split(':').filter(Boolean);
if (!dirs.length) throw new Error('COMPAT_DIRS is empty: run the suite through `node scripts/compat.mjs`');

const transcript = (run: AppRun) => run.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

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
        const run = await runApp({ script: cjs, cwd: dir, node, preload: 'require', register: 'llm-governor/register', env: { SIM_URL: sim.url, XAI_API_ENDPOINT: sim.xaiBaseURL, ...telemetryEnv(otlp.url) } });
        expect(bare.code, bare.stderr).toBe(0);
        expect(run.code, run.stderr).toBe(0);
        expect(run.stderr).toBe(bare.stderr);
        const a = transcript(bare);
        const b = transcript(run);
        for (let i = 0; i < a.length; i++) expect(b[i], a[i].case).toEqual(a[i]);
        expect(b.length).toBe(a.length);
        expect(a.filter((l) => l.unexpected)).toEqual([]);
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
