import { describeAiSdkProvider, fileSimulator } from '../helpers/ai-sdk-suite';

/**
 * `@ai-sdk/xai` under the preload: chat (generateText, streamText, generateObject) and Responses
 * (generateText, streamText); the package has no embedding model. `createXai({ baseURL })` at the
 * simulator, known to the wire entry by `XAI_BASE_URL` (or `XAI_API_ENDPOINT`; `api.x.ai` itself
 * needs nothing). Spans say `x_ai`; grok-3 is priced from the table's xAI list.
 */
const sim = fileSimulator();

describeAiSdkProvider(
  {
    provider: 'xai',
    system: 'x_ai',
    requestModel: 'grok-3',
    responseModel: /^grok-3/,
    priceModel: 'grok-3',
    path: /^\/xai\/v1\/(chat\/completions|responses)$/,
    calls: 5,
    env: (s) => ({ XAI_BASE_URL: `${s.url}/xai/v1` }),
  },
  sim,
);
