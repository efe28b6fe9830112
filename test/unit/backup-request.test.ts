// A backup's endpoint, read from its provider's standard environment (the one reading both ways
// into a call use), and the wire entry's request for it: URL shape, credential, body, headers.
import { describe, expect, it } from 'vitest';
import { backupEndpoint } from '../../src/guards/backup-env';
import { BackupClients } from '../../src/guards/fallback';
import { backupRequest, wireBackups } from '../../src/instrumentation/fetch/backup-request';

describe('backupEndpoint', () => {
  it.each([
    ['openai', {}, { OPENAI_API_KEY: 'k' }, { baseURL: 'https://api.openai.com/v1', apiKey: 'k' }],
    ['openai', {}, { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'http://h:1/v1/' }, { baseURL: 'http://h:1/v1' }],
    ['openai', { base_url: 'http://b/v1' }, { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'http://h:1/v1' }, { baseURL: 'http://b/v1' }],
    ['x_ai', {}, { XAI_API_KEY: 'x' }, { baseURL: 'https://api.x.ai/v1', apiKey: 'x' }],
    ['x_ai', {}, { XAI_API_KEY: 'x', XAI_BASE_URL: 'http://xb/v1' }, { baseURL: 'http://xb/v1' }],
    ['x_ai', {}, { XAI_API_KEY: 'x', XAI_BASE_URL: 'http://xb/v1', XAI_API_ENDPOINT: 'http://xe/v1' }, { baseURL: 'http://xe/v1' }],
    [
      'azure.ai.openai',
      {},
      { AZURE_OPENAI_ENDPOINT: 'https://r.openai.azure.com/', AZURE_OPENAI_API_KEY: 'a' },
      { baseURL: 'https://r.openai.azure.com/openai', apiKey: 'a', apiVersion: '2024-10-21' },
    ],
    ['azure.ai.openai', {}, { AZURE_OPENAI_ENDPOINT: 'https://r', AZURE_OPENAI_API_KEY: 'a', OPENAI_API_VERSION: 'v2' }, { apiVersion: 'v2' }],
    ['azure.ai.openai', {}, { AZURE_OPENAI_ENDPOINT: 'https://r', AZURE_OPENAI_API_KEY: 'a', OPENAI_API_VERSION: 'v2', AZURE_API_VERSION: 'v1' }, { apiVersion: 'v1' }],
    ['azure.ai.openai', { base_url: 'http://az/openai' }, { AZURE_OPENAI_API_KEY: 'a' }, { baseURL: 'http://az/openai' }],
  ] as const)('%s %j from %j', (provider, more, env, expected) => {
    expect(backupEndpoint({ provider, ...more }, env)).toMatchObject({ provider, ...expected });
  });

  it.each([
    ['openai', {}, 'OPENAI_API_KEY is not set'],
    ['x_ai', { XAI_BASE_URL: 'http://xb/v1' }, 'XAI_API_KEY is not set'],
    ['azure.ai.openai', { AZURE_OPENAI_API_KEY: 'a' }, 'AZURE_OPENAI_ENDPOINT is not set'],
    ['azure.ai.openai', { AZURE_OPENAI_ENDPOINT: 'https://r' }, 'AZURE_OPENAI_API_KEY is not set'],
  ] as const)('%s without %j: names the variable missing', (provider, env, message) => {
    expect(() => backupEndpoint({ provider }, env)).toThrow(message);
  });

  it('backup targets are built once per maker; one that cannot be built is left out', () => {
    const made: unknown[] = [];
    const maker = { make: (e: unknown) => (made.push(e), { e }) };
    const backups = new BackupClients({ XAI_API_KEY: 'x', XAI_BASE_URL: 'http://127.0.0.1:9/xai/v1' });
    const configs = [{ provider: 'openai' as const }, { provider: 'x_ai' as const, model: 'grok-3' }];
    const first = backups.targets(configs, 'gpt-4o-mini', maker);
    expect(first.map((t) => [t.provider.name, t.model, t.provider.serverPort, t.primary])).toEqual([['x_ai', 'grok-3', 9, false]]);
    expect(backups.targets(configs, 'gpt-4o-mini', maker)[0]!.client).toBe(first[0]!.client);
    expect(made).toHaveLength(1);
  });
});

describe('backupRequest (the wire entry)', () => {
  const init: RequestInit = {
    method: 'POST',
    headers: {
      authorization: 'Bearer sk-primary',
      'api-key': 'az-primary',
      'content-length': '99',
      'content-type': 'application/json',
      'user-agent': 'ai-sdk/openai',
      'openai-organization': 'org-1',
      'x-custom': 'kept',
    },
    body: '{"model":"gpt-4o-mini"}',
  };
  const body = { model: 'm-2', messages: [] };

  it('OpenAI and xAI: the base URL and the operation path, a bearer token of its own', () => {
    const endpoint = wireBackups.make({ provider: 'x_ai', apiKey: 'xai-k', baseURL: 'http://x/xai/v1' }) as never;
    const signal = new AbortController().signal;
    const r = backupRequest(endpoint, '/chat/completions', body, init, signal);
    expect(r.url).toBe('http://x/xai/v1/chat/completions');
    const h = r.init.headers as Headers;
    expect(Object.fromEntries(h.entries())).toEqual({ authorization: 'Bearer xai-k', 'content-type': 'application/json', 'user-agent': 'ai-sdk/openai', 'x-custom': 'kept' });
    expect(JSON.parse(r.init.body as string)).toEqual(body);
    expect(r.init.signal).toBe(signal);
  });

  it('Azure: the deployment in the path where Azure puts it, api-version, api-key', () => {
    const endpoint = { provider: 'azure.ai.openai', apiKey: 'az-k', baseURL: 'https://r/openai', apiVersion: '2024-10-21' } as const;
    const chat = backupRequest(endpoint, '/chat/completions', body, init, undefined);
    expect(chat.url).toBe('https://r/openai/deployments/m-2/chat/completions?api-version=2024-10-21');
    const h = chat.init.headers as Headers;
    expect(h.get('api-key')).toBe('az-k');
    expect(h.get('authorization')).toBeNull();
    expect(backupRequest(endpoint, '/responses', body, init, undefined).url).toBe('https://r/openai/responses?api-version=2024-10-21');
    const deployed = { ...endpoint, baseURL: 'https://r/openai/deployments/fixed' };
    expect(backupRequest(deployed, '/embeddings', body, init, undefined).url).toBe('https://r/openai/deployments/fixed/embeddings?api-version=2024-10-21');
  });
});
