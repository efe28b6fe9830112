import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeAiSdkProvider, fileSimulator, runAiSdk, type AiSdkCase } from '../helpers/ai-sdk-suite';

/**
 * `@ai-sdk/openai-compatible` at an OpenAI-compatible server (the simulator's `/v1`): chat
 * (generateText, streamText, generateObject with `supportsStructuredOutputs`) and embed.
 *
 * Such a server can be anything (a gateway, vLLM, Ollama), so nothing is governed on its host or
 * path alone: it counts as the provider the process names it, by a base URL variable
 * (`OPENAI_BASE_URL`, as for the openai SDK) or by the config's `provider_overrides`, as here
 * (`{ "<base URL>": "openai" }`). Its stream asks for no usage: we ask on the wire and hide the
 * answer from the app, so the span has the provider's usage where the app has none.
 */
const sim = fileSimulator();
const dir = mkdtempSync(join(tmpdir(), 'llm-governor-compatible-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A config file that names the server's base URL, as a user would. */
function overrides(baseURL: string): string {
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ provider_overrides: { [baseURL]: 'openai' } }));
  return file;
}

const compatible: AiSdkCase = {
  provider: 'compatible',
  system: 'openai',
  requestModel: 'gpt-4o-mini',
  responseModel: /^gpt-4o-mini/,
  priceModel: 'gpt-4o-mini-2024-07-18',
  path: /^\/v1\/(chat\/completions|embeddings)$/,
  calls: 4,
  env: (s) => ({ LLM_GOVERNOR_CONFIG: overrides(`${s.url}/v1`) }),
};

describeAiSdkProvider(compatible, sim);

describe('an OpenAI-compatible server nobody names', () => {
  it('is not governed: its calls go through untouched, with no span', async () => {
    const r = await runAiSdk({ ...compatible, env: () => ({}) }, sim(), 'require');
    expect(r.code, r.stderr).toBe(0);
    expect(r.out.error).toBeUndefined();
    expect(r.out.calls).toHaveLength(4);
    expect(r.sent).toHaveLength(4);
    expect(r.spans.filter((s) => s.attributes['gen_ai.operation.name'] !== undefined)).toHaveLength(0);
    // Untouched: the stream went out without the usage we would have asked for.
    expect(r.sent.find((q) => q.body.stream === true)?.body.stream_options).toBeUndefined();
  });
});
