import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver } from '../helpers/otlp';
import { REPO, runApp, telemetryEnv } from '../helpers/run-app';
import { startUsageStreamServer } from '../helpers/usage-stream-server';

/**
 * The app sees exactly the chunks the provider sent. We ask every stream for usage
 * (`include_usage`) and hide only what that added: OpenAI's usage-only last chunk and its
 * `"usage": null` fields. A provider that sends usage unasked, or on its last content chunk, or
 * twice, reaches the app as it sent it: the transcript under the preload equals the bare SDK's,
 * read through the SDK's Stream and through the raw response, and the span has the real usage.
 */
let server: Awaited<ReturnType<typeof startUsageStreamServer>>;
beforeAll(async () => {
  server = await startUsageStreamServer();
});
afterAll(async () => server?.close());

const app = resolve(REPO, 'test/fixtures/chunks-app.cjs');

describe('stream chunks under the preload equal the bare SDK’s', () => {
  it('for every way a provider sends usage, asked or not, through the Stream and the raw body', async () => {
    const bare = await runApp({ script: app, preload: 'none', env: { SERVER_URL: server.url } });
    expect(bare.code, bare.stderr).toBe(0);
    const otlp = await startOtlpReceiver();
    try {
      const run = await runApp({ script: app, preload: 'require', env: { SERVER_URL: server.url, ...telemetryEnv(otlp.url) } });
      expect(run.code, run.stderr).toBe(0);
      const a = JSON.parse(bare.stdout.trim());
      const b = JSON.parse(run.stdout.trim());
      expect(Object.keys(b)).toEqual(Object.keys(a));
      for (const key of Object.keys(a)) expect(b[key], key).toEqual(a[key]);
      // 4 habits × asked or not × 3 ways of reading: one span each, usage as the provider sent it.
      await new Promise((r) => setTimeout(r, 300));
      const chats = otlp.spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat');
      expect(chats).toHaveLength(24);
      for (const s of chats) {
        expect(s.attributes['gen_ai.usage.input_tokens'], s.name).toBe(9);
        expect(s.attributes['gen_ai.usage.output_tokens'], s.name).toBe(3);
        expect(s.attributes['llm_governor.usage.estimated'], s.name).toBeUndefined();
      }
    } finally {
      await otlp.close();
    }
  });
});
