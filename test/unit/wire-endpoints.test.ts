import { describe, expect, it } from 'vitest';
import { clientOf, refusalStatus } from '../../src/instrumentation/fetch/clients';
import { endpointsFrom, providerRequest } from '../../src/instrumentation/fetch/endpoints';
import { namedModel } from '../../src/instrumentation/fetch/request';
import type { Refusal } from '../../src/pipeline/wire';

const env = { OPENAI_BASE_URL: 'http://127.0.0.1:4010/v1', AZURE_OPENAI_ENDPOINT: 'https://corp-gw.internal/azure' };
const endpoints = endpointsFrom(env, { 'llm.example.net': 'x_ai', 'gw.internal:8443': 'azure.ai.openai', 'https://proxy.example.com/openai': 'openai' });

describe('which fetch requests are provider calls', () => {
  it.each([
    ['https://api.openai.com/v1/chat/completions', 'POST', { path: '/chat/completions', baseURL: 'https://api.openai.com/v1' }],
    ['https://api.openai.com/v1/completions', 'POST', { path: '/completions', baseURL: 'https://api.openai.com/v1' }],
    ['https://api.openai.com/v1/responses', 'POST', { path: '/responses' }],
    ['https://api.openai.com/v1/embeddings', 'POST', { path: '/embeddings' }],
    ['https://api.openai.com/v1/images/generations', 'POST', { path: '/images/generations' }],
    ['https://api.openai.com/v1/audio/transcriptions', 'POST', { path: '/audio/transcriptions' }],
    ['https://api.openai.com/v1/moderations', 'POST', { path: '/moderations' }],
    ['https://api.x.ai/v1/chat/completions', 'POST', { path: '/chat/completions', host: 'api.x.ai' }],
    ['https://res.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21', 'POST', { baseURL: 'https://res.openai.azure.com/openai/deployments/gpt4o' }],
    ['https://res.cognitiveservices.azure.com/openai/v1/responses', 'POST', { path: '/responses' }],
    ['http://127.0.0.1:4010/v1/chat/completions', 'POST', { provider: 'openai' }],
    ['https://corp-gw.internal/azure/openai/deployments/d/embeddings', 'POST', { provider: 'azure.ai.openai' }],
    ['https://llm.example.net/v1/chat/completions', 'POST', { host: 'llm.example.net' }],
    ['https://proxy.example.com/openai/v1/responses', 'POST', { provider: 'openai' }],
    ['https://gw.internal:8443/openai/v1/chat/completions', 'POST', { provider: 'azure.ai.openai', host: 'gw.internal:8443' }],
  ])('%s %s is a provider call', (url, method, expected) => {
    expect(providerRequest(url, method, endpoints)).toMatchObject(expected);
  });

  it.each([
    ['https://api.openai.com/v1/chat/completions', 'GET'], // listing stored completions is not billed
    ['https://api.openai.com/v1/files', 'POST'],
    ['https://api.openai.com/v1/batches', 'POST'],
    ['https://example.com/v1/chat/completions', 'POST'], // not a provider's host
    ['http://127.0.0.1:4011/v1/chat/completions', 'POST'], // another port of the same host
    ['http://127.0.0.1:4010/v2/chat/completions', 'POST'], // outside the base URL
    ['https://api.openai.com.evil.example/v1/chat/completions', 'POST'],
    ['not a url', 'POST'],
  ])('%s %s passes through', (url, method) => {
    expect(providerRequest(url, method, endpoints)).toBeUndefined();
  });
});

describe('the provider and the Azure deployment a request names', () => {
  const none = endpointsFrom({});
  it.each([
    // The providers' own hosts name their provider, whatever the path style.
    ['https://api.openai.com/v1/chat/completions', { provider: 'openai', deployment: undefined }],
    ['https://api.x.ai/v1/responses', { provider: 'x_ai' }],
    ['https://res.openai.azure.com/openai/v1/chat/completions?api-version=v1', { provider: 'azure.ai.openai', deployment: undefined }],
    ['https://res.cognitiveservices.azure.com/openai/v1/responses', { provider: 'azure.ai.openai' }],
    // Deployment-based URLs: the segment before the operation's path, decoded.
    ['https://res.openai.azure.com/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21', { deployment: 'prod-4o', path: '/chat/completions' }],
    ['https://res.openai.azure.com/openai/deployments/emb%20small/embeddings', { deployment: 'emb small', path: '/embeddings' }],
    ['https://res.openai.azure.com/openai/deployments/whisper/audio/transcriptions?api-version=2024-06-01', { deployment: 'whisper', path: '/audio/transcriptions' }],
    ['https://res.openai.azure.com/openai/deployments/img/images/generations', { deployment: 'img', path: '/images/generations' }],
    ['https://res.openai.azure.com/openai/deployments/%E0%A4%A/chat/completions', { deployment: undefined }], // not decodable: none
    ['https://res.openai.azure.com/openai/deployments//chat/completions', { deployment: undefined }],
    ['https://res.openai.azure.com/openai/deployments/d/extra/chat/completions', { deployment: undefined }], // not right before the operation
  ])('%s', (url, expected) => {
    expect(providerRequest(url, 'POST', none)).toMatchObject(expected);
  });

  it('a base URL named in the environment or the config wins over the host', () => {
    const gw = endpointsFrom({ OPENAI_BASE_URL: 'https://res.openai.azure.com/openai/v1' });
    expect(providerRequest('https://res.openai.azure.com/openai/v1/chat/completions', 'POST', gw)?.provider).toBe('openai');
  });

  it.each(['XAI_BASE_URL', 'XAI_API_ENDPOINT'])('%s names an xAI base URL', (variable) => {
    const xai = endpointsFrom({ [variable]: 'http://127.0.0.1:4020/xai/v1/' });
    expect(providerRequest('http://127.0.0.1:4020/xai/v1/chat/completions', 'POST', xai)).toMatchObject({ provider: 'x_ai', baseURL: 'http://127.0.0.1:4020/xai/v1' });
  });
});

describe("a call's model when the body names none", () => {
  it.each([
    ['the body names it', { path: '/chat/completions', deployment: 'prod-4o' }, { model: 'gpt-4o' }, { body: { model: 'gpt-4o' }, path: '/chat/completions' }],
    ['no deployment in the URL', { path: '/chat/completions' }, { messages: [] }, { body: { messages: [] }, path: '/chat/completions' }],
    ['the deployment', { path: '/chat/completions', deployment: 'prod-4o' }, { messages: [] }, { body: { messages: [], model: 'prod-4o' }, path: '/deployments/prod-4o/chat/completions' }],
    ['a body that is not JSON (a form)', { path: '/audio/transcriptions', deployment: 'whisper' }, undefined, { body: { model: 'whisper' }, path: '/deployments/whisper/audio/transcriptions' }],
    ['a model that is not a string', { path: '/embeddings', deployment: 'emb small' }, { model: 7 }, { body: { model: 'emb small' }, path: '/deployments/emb%20small/embeddings' }],
  ] as const)('%s', (_, match, body, expected) => {
    const before = body && structuredClone(body);
    expect(namedModel(match, body as Record<string, unknown> | undefined)).toEqual(expected);
    expect(body).toEqual(before); // the client's own body is never changed
  });
});

describe('which client sent a request, and the refusal each gets', () => {
  it.each([
    ['ai-sdk/openai/3.0.1 ai-sdk/provider-utils/4.0.0 runtime/node.js/20', 'ai-sdk'],
    ['ai-sdk-openai/3.0.1 ai-sdk-provider-utils/4.0.15', 'ai-sdk'],
    ['OpenAI/JS 6.49.0', 'openai'],
    ['langchain-js/0.3', 'langchain'],
    ['curl/8.0', 'other'],
    [undefined, 'other'],
  ])('%s is %s', (ua, client) => {
    expect(clientOf(ua)).toBe(client);
  });

  const refusal = (code: Refusal['code'], status: number): Refusal => ({ code, status, message: '', details: {} });
  it.each([
    ['budget_exceeded', 429, 'ai-sdk', 402],
    ['budget_unavailable', 503, 'ai-sdk', 424],
    ['circuit_open', 503, 'ai-sdk', 424],
    ['rate_limited', 429, 'ai-sdk', 424],
    ['content_blocked', 400, 'ai-sdk', 400],
    ['budget_exceeded', 429, 'openai', 429],
    ['circuit_open', 503, 'other', 503],
  ] as const)('%s (%s) for %s: %s', (code, status, client, expected) => {
    const got = refusalStatus(refusal(code, status), client);
    expect(got).toBe(expected);
    // The AI SDK retries 408, 409, 429 and every 5xx: none of its answers is one of those.
    if (client === 'ai-sdk') expect(got === 408 || got === 409 || got === 429 || got >= 500).toBe(false);
  });
});
