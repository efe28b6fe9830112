import { describeAiSdkProvider, fileSimulator } from '../helpers/ai-sdk-suite';

/**
 * The Vercel AI SDK (`ai` + `@ai-sdk/openai`) never passes through the openai SDK: it calls the
 * provider with the process's fetch. Under the preload, the wire entry governs those calls with
 * the same pipeline: spans with the provider's usage, the scrape, the cost, the audit trail, and
 * a budget that blocks with the AI SDK's own error type, our code in it, and no retry.
 *
 * The calls: generateText, streamText and generateObject (a zod schema) on Chat Completions
 * (`openai.chat`), generateText and streamText on Responses (`openai.responses`), and embed.
 * The endpoint is known by `OPENAI_BASE_URL`, as a user pointing the openai SDK at it would set.
 */
const sim = fileSimulator();

describeAiSdkProvider(
  {
    provider: 'openai',
    system: 'openai',
    requestModel: 'gpt-4o-mini',
    responseModel: /^gpt-4o-mini/,
    priceModel: 'gpt-4o-mini-2024-07-18',
    path: /^\/v1\/(chat\/completions|responses|embeddings)$/,
    calls: 6,
    env: (s) => ({ OPENAI_BASE_URL: `${s.url}/v1` }),
  },
  sim,
);
