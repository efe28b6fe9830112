import { describe, expect, it } from 'vitest';
import { detectProvider } from '../../src/providers/detect';

describe('detectProvider: the first match wins', () => {
  it.each([
    // [case, input, expected provider]
    ['plain OpenAI', { baseURL: 'https://api.openai.com/v1', isAzureClient: false }, 'openai'],
    ['AzureOpenAI instance on any host', { baseURL: 'http://127.0.0.1:8080/openai', isAzureClient: true }, 'azure.ai.openai'],
    ['Azure host, plain client', { baseURL: 'https://myres.openai.azure.com/openai/v1', isAzureClient: false }, 'azure.ai.openai'],
    ['xAI host', { baseURL: 'https://api.x.ai/v1', isAzureClient: false }, 'x_ai'],
    ['XAI_API_ENDPOINT equals baseURL', { baseURL: 'http://127.0.0.1:9/xai/v1/', isAzureClient: false, xaiEndpoint: 'http://127.0.0.1:9/xai/v1' }, 'x_ai'],
    ['XAI_API_ENDPOINT differs', { baseURL: 'http://127.0.0.1:9/v1', isAzureClient: false, xaiEndpoint: 'http://127.0.0.1:9/xai/v1' }, 'openai'],
    ['override by host beats Azure', { baseURL: 'https://myres.openai.azure.com/', isAzureClient: true, overrides: { 'myres.openai.azure.com': 'x_ai' as const } }, 'x_ai'],
    ['override by URL prefix', { baseURL: 'http://gateway.local/llm/v1', isAzureClient: false, overrides: { 'http://gateway.local/llm': 'azure.ai.openai' as const } }, 'azure.ai.openai'],
    ['unparseable baseURL', { baseURL: 'not a url', isAzureClient: false }, 'openai'],
  ])('%s', (_name, input, expected) => {
    expect(detectProvider(input).name).toBe(expected);
  });

  it('reports server address and port, defaulting the port by scheme', () => {
    expect(detectProvider({ baseURL: 'https://api.openai.com/v1', isAzureClient: false })).toMatchObject({ serverAddress: 'api.openai.com', serverPort: 443 });
    expect(detectProvider({ baseURL: 'http://127.0.0.1:8787/v1', isAzureClient: false })).toMatchObject({ serverAddress: '127.0.0.1', serverPort: 8787 });
  });
});
