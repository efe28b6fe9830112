import { afterEach, describe, expect, it } from 'vitest';
import { forgetSecrets, maskUrl, redact, rememberHeaderSecret, rememberRequestCredentials, rememberSecret, rememberUrlSecrets } from '../../src/redaction';

afterEach(() => forgetSecrets());

const JWT = 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL2NvZ25pdGl2ZXNlcnZpY2VzLmF6dXJlLmNvbSJ9.c2lnbmF0dXJlLXBhcnQ';
const AZURE_KEY = '0123456789abcdef0123456789abcdef';

describe('redact: key-shaped patterns', () => {
  it.each([
    ['an OpenAI key', 'Incorrect API key provided: sk-proj-abcdefghijklmnop1234', 'sk-proj-abcdefghijklmnop1234'],
    ['an xAI key', 'bad key xai-ABCDEFGHIJKLMNOP', 'xai-ABCDEFGHIJKLMNOP'],
    ['a bearer token', 'Authorization: Bearer abc.def.ghi', 'abc.def.ghi'],
    ['a JWT anywhere', `token was ${JWT} and expired`, JWT],
    ['a 32-hex Azure key', `Access denied due to invalid subscription key ${AZURE_KEY}`, AZURE_KEY],
    ['an api-key header', `api-key: ${'k'.repeat(10)}xyz`, `${'k'.repeat(10)}xyz`],
    ['an api-key= query value', 'GET /openai/deployments/x?api-version=1&api-key=s3cr3t-value-here', 's3cr3t-value-here'],
    ['a key= query value', 'url https://h/x?key=abcdef123456', 'abcdef123456'],
    ['a token= query value', 'url https://h/x?token=gateway-token-1', 'gateway-token-1'],
    ['a JSON api_key', '{"api_key":"my-gateway-secret"}', 'my-gateway-secret'],
    ['a URL password', 'connect redis://default:hunter2-pw@cache:6379/0 failed', 'hunter2-pw'],
    ['a URL password with an @', 'redis://user:p@ss@word@cache:6379', 'p@ss@word'],
  ])('%s', (_name, text, secret) => {
    const out = redact(text);
    expect(out).not.toContain(secret);
    expect(out).toContain('[REDACTED]');
  });

  it('leaves ordinary text alone', () => {
    expect(redact('the model gpt-4o-mini answered 429 Too Many Requests')).toBe('the model gpt-4o-mini answered 429 Too Many Requests');
  });
});

describe('redact: the exact credentials the process knows', () => {
  it('an echoed key of any shape', () => {
    rememberSecret('corp-gateway-credential-42');
    expect(redact('upstream said: corp-gateway-credential-42 is not allowed')).toBe('upstream said: [REDACTED] is not allowed');
  });
  it('from request headers: Authorization and api-key, Headers or records', () => {
    rememberRequestCredentials(new Headers({ authorization: 'Bearer opaque-token-abcdef' }));
    rememberRequestCredentials({ 'api-key': 'azure-opaque-key-998877' });
    expect(redact('opaque-token-abcdef / azure-opaque-key-998877')).toBe('[REDACTED] / [REDACTED]');
  });
  it('a Redis password and query values', () => {
    rememberUrlSecrets('redis://cache:6379/0?password=qwertyuiop');
    expect(redact('AUTH qwertyuiop failed')).toBe('AUTH [REDACTED] failed');
  });
  it('ignores short values', () => {
    rememberHeaderSecret('Bearer abc');
    expect(redact('abc')).toBe('abc');
  });
});

describe('maskUrl', () => {
  it.each([
    ['redis://default:hunter2@cache:6379/0', 'hunter2'],
    ['redis://cache:6379/0?password=X-secret-1', 'X-secret-1'],
    ['redis://:p@ss@cache:6379', 'p@ss'],
    ['rediss://user:pa%40ss@cache:6380', 'pa@ss'],
  ])('%s', (url, secret) => {
    const out = maskUrl(url);
    expect(out).not.toContain(secret);
    expect(out).toContain('cache');
  });
});
