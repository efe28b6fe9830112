import { describe, expect, it } from 'vitest';
import { describeAiSdkProvider, expectGoverned, fileSimulator, runAiSdk, type AiSdkCase } from '../helpers/ai-sdk-suite';

/**
 * `@ai-sdk/azure` under the preload, in both of its URL styles against the simulator:
 * - its default, `{baseURL}/chat/completions` with `baseURL` `…/openai/v1` (the v1 API; against
 *   `*.openai.azure.com` it adds `?api-version=v1` itself);
 * - `useDeploymentBasedUrls: true`: `{baseURL}/deployments/{deployment}/chat/completions?api-version=…`.
 * The endpoint is known by `AZURE_OPENAI_ENDPOINT` (a real resource's `*.openai.azure.com` or
 * `*.cognitiveservices.azure.com` host needs nothing); spans say `azure.ai.openai`, the request
 * model is the deployment (`chat-mini`), the response model what it runs, priced from it.
 */
const sim = fileSimulator({ azureDeployments: { 'chat-mini': 'gpt-4o-mini' } });

const azure = (provider: AiSdkCase['provider'], path: RegExp): AiSdkCase => ({
  provider,
  system: 'azure.ai.openai',
  requestModel: 'chat-mini',
  responseModel: /^gpt-4o-mini/,
  priceModel: 'gpt-4o-mini-2024-07-18',
  path,
  calls: 6,
  env: (s) => ({ AZURE_OPENAI_ENDPOINT: s.url, AZURE_DEPLOYMENT: 'chat-mini' }),
});

describeAiSdkProvider(azure('azure', /^\/openai\/v1\/(chat\/completions|responses|embeddings)$/), sim);
describeAiSdkProvider(azure('azure-deployments', /^\/openai\/deployments\/(chat-mini|text-embedding-3-small)\/(chat\/completions|responses|embeddings)$/), sim);

describe.each(['require', 'import'] as const)('a hand-written fetch to an Azure deployment URL under --%s', (preload) => {
  it('no model in the body: the model is the deployment in the path; the body is sent as the app wrote it', async () => {
    const c = { ...azure('azure', /^\/openai\/deployments\/chat-mini\/chat\/completions$/), calls: 1 };
    const r = await runAiSdk(c, sim(), preload, { MODE: 'azure-rest' });
    const [call] = expectGoverned(r, c, sim());
    expect(call).toMatchObject({ status: 200 });
    expect(r.spans.find((s) => s.attributes['gen_ai.operation.name'] === 'chat')?.name).toBe('chat chat-mini');
    expect(r.sent[0]?.body.model).toBeUndefined();
  });
});
