import { resolve } from 'node:path';
import { describe, expect } from 'vitest';
import { fileSimulator } from '../helpers/ai-sdk-suite';
import { governedClientSuite } from '../helpers/client-assert';
import { REPO } from '../helpers/run-app';

/**
 * The OpenAI Agents SDK (`@openai/agents`) runs its model calls through its own copy of the openai
 * SDK (7, nested under it): under the preload the SDK adapter patches that copy too, and governs
 * each model call of an Agent run (Responses, streamed, and Chat Completions), counted once. The
 * agents SDK's own tracing exporter is off in the app.
 */
const sim = fileSimulator({ seed: 17 });

describe.each(['require', 'import'] as const)('the OpenAI Agents SDK under --%s', (preload) => {
  governedClientSuite(
    sim,
    {
      fixture: (p) => resolve(REPO, `test/fixtures/openai-agents-app.${p === 'require' ? 'cjs' : 'mjs'}`),
      openaiVersion: /^7\./,
      // The agents SDK rethrows the openai SDK's error as it is: ours, not wrapped in an AgentsError.
      expectBudgetError: (err) => expect(err.chain[0]).toBe('BudgetExceededError'),
      expectCircuitOpenError: (err) => expect(err.chain[0]).toBe('CircuitOpenError'),
    },
    preload,
  );
});
