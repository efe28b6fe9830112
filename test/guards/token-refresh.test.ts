import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { expectRebuiltRetries, startTokenServer } from '../helpers/token-server';
import { REPO, runApp } from '../helpers/run-app';

/**
 * Our retry loop sends what the SDK's own loop would: each attempt asks the credential
 * functions again (`apiKey` function, Azure's `azureADTokenProvider`) and counts itself in
 * `x-stainless-retry-count`. Against a server that answers 429 and then refuses an old token,
 * the bare SDK succeeds on its second attempt; so must the app under the preload. (Every
 * openai major runs the same check in the compat suite.)
 */
let server: Awaited<ReturnType<typeof startTokenServer>>;
beforeAll(async () => {
  server = await startTokenServer();
});
afterAll(async () => server?.close());

const app = resolve(REPO, 'test/fixtures/token-refresh-app.cjs');
const env = () => ({ SERVER_URL: server.url, OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' });

describe('retries are rebuilt like the SDK rebuilds them', () => {
  for (const preload of ['none', 'require'] as const) {
    it(`${preload === 'none' ? 'bare SDK' : 'under the preload'}: a new token and the next retry count on the second attempt`, async () => {
      server.reset();
      const r = await runApp({ script: app, preload, env: env() });
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
      expect(Object.keys(out).sort()).toEqual(['apiKeyFunction', 'azureADTokenProvider']);
      expectRebuiltRetries(expect, out, server.seen);
    });
  }
});
