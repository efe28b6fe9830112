import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileSimulator } from '../helpers/ai-sdk-suite';
import { type AppError, callSpans, type ClientSuite, governedClientSuite, runClient } from '../helpers/client-assert';
import { REPO } from '../helpers/run-app';

/**
 * LangChain (`@langchain/openai`'s ChatOpenAI and OpenAIEmbeddings) calls the provider through
 * the openai SDK (6): under the preload the SDK adapter governs each call, and the wire entry
 * lets it through, so each call is counted once. Our refusals reach the app as the openai SDK's
 * errors, which LangChain rethrows; its own retry loop (its AsyncCaller, which runs the openai
 * client with maxRetries 0) must not retry them.
 */
const sim = fileSimulator({ seed: 16 });

const suite: ClientSuite = {
  fixture: (p) => resolve(REPO, `test/fixtures/langchain-app.${p === 'require' ? 'cjs' : 'mjs'}`),
  openaiVersion: /^6\./,
  // LangChain's AsyncCaller takes our 429 without retry-after for a capacity limit: it renames
  // the error (still our BudgetExceededError, an openai APIError) and throws it at once.
  expectBudgetError: (err) => expect(err).toMatchObject({ name: 'RateLimitCapacityError', retryable: true }),
  // LangChain rethrows the openai SDK's error as it is (it renames only the 429s it classifies).
  expectCircuitOpenError: (err) => expect(err.chain[0]).toBe('CircuitOpenError'),
};

describe.each(['require', 'import'] as const)('LangChain under --%s', (preload) => {
  governedClientSuite(sim, suite, preload);

  it("with LangChain's own retries on: our budget_exceeded is not retried", async () => {
    const { r, sent } = await runClient(sim(), suite, preload, { MODE: 'errors', CALLS: '1', MAX_RETRIES: '2', LLM_GOVERNOR_DAILY_BUDGET_USD: '0.000001' });
    expect((r.out.errors as AppError[]).map((e) => [e.status, e.code])).toEqual([[429, 'budget_exceeded']]);
    expect(sent).toHaveLength(0);
    expect(callSpans(r)).toHaveLength(1);
  });

  it("with LangChain's own retries on: a 500 is retried by LangChain, our circuit_open is not", async () => {
    sim().setFaults([{ kind: '500', match: { path: '/v1/' } }]);
    try {
      // The first call's first try opens the breaker (threshold 1); LangChain retries it once,
      // and that try is refused. The second call is refused at once.
      const { r, sent } = await runClient(sim(), suite, preload, { MODE: 'errors', CALLS: '2', MAX_RETRIES: '1', LLM_GOVERNOR_BREAKER_FAILURES: '1', LLM_GOVERNOR_BREAKER_RESET_SECONDS: '60' });
      const errors = r.out.errors as AppError[];
      expect(errors.map((e) => [e.status, e.code])).toEqual([
        [503, 'circuit_open'],
        [503, 'circuit_open'],
      ]);
      expect(sent).toHaveLength(1);
      expect(callSpans(r).map((s) => s.attributes['error.type'])).toEqual(['InternalServerError', 'circuit_open', 'circuit_open']);
    } finally {
      sim().setFaults([]);
    }
  });
});
