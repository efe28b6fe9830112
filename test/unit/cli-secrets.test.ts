import { describe, expect, it } from 'vitest';
import { checkConfig } from '../../src/cli/check-config';

/** check-config prints what is in force and what was dropped, with every secret masked. */
describe('check-config masks every secret', () => {
  it.each([
    ['a password in the query', 'redis://cache:6379/0?password=Qz-secret-1', 'Qz-secret-1'],
    ['a password with an @', 'redis://default:p@ssw0rd-2@cache:6379', 'p@ssw0rd-2'],
    ['user and password', 'rediss://admin:S3cret-3@cache:6380/1', 'S3cret-3'],
  ])('%s', (_name, url, secret) => {
    let out = '';
    checkConfig({ LLM_GOVERNOR_REDIS_URL: url, LLM_GOVERNOR_USER_HASH_SALT: 'salt-value-77' }, (s) => (out += s));
    expect(out).toContain('redis_url');
    expect(out).not.toContain(secret);
    expect(out).not.toContain('salt-value-77');
  });

  it('a dropped value that holds a secret is named, not shown', () => {
    let out = '';
    const code = checkConfig({ LLM_GOVERNOR_REDIS_URL: 'redis://u:Dropped-Secret-9@cache:99999' }, (s) => (out += s));
    expect(code).toBe(1);
    expect(out).toMatch(/LLM_GOVERNOR_REDIS_URL/);
    expect(out).not.toContain('Dropped-Secret-9');
  });
});
