import { describe, expect, it } from 'vitest';
import { boundaryOf, parseMultipart } from '../../src/simulator/multipart';
import { contentKey, hasCredentials, parseBody } from '../../src/simulator/request';
import { resolveRoute } from '../../src/simulator/router';

function form(boundary: string, parts: string[]): Buffer {
  return Buffer.from(`${parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('')}--${boundary}--\r\n`);
}

describe('multipart', () => {
  it.each([
    ['multipart/form-data; boundary=abc', 'abc'],
    ['multipart/form-data; boundary="quoted b"', 'quoted b'],
    ['multipart/form-data; boundary=----formdata-undici-0123; charset=x', '----formdata-undici-0123'],
    ['application/json', undefined],
    [undefined, undefined],
  ])('boundary of %j', (header, boundary) => {
    expect(boundaryOf(header)).toBe(boundary);
  });

  it('parses fields, repeated fields and files (binary-safe)', () => {
    const body = form('B', [
      'Content-Disposition: form-data; name="model"\r\n\r\nwhisper-1',
      'Content-Disposition: form-data; name="timestamp_granularities[]"\r\n\r\nword',
      'Content-Disposition: form-data; name="timestamp_granularities[]"\r\n\r\nsegment',
      'Content-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\nRIFF\r\n--not-a-boundary\u0000\u00ff',
    ]);
    const parsed = parseMultipart(body, 'B');
    expect(parsed.fields).toEqual({ model: 'whisper-1', 'timestamp_granularities[]': ['word', 'segment'] });
    expect(parsed.files).toHaveLength(1);
    expect(parsed.files[0]!.field).toBe('file');
    expect(parsed.files[0]!.filename).toBe('a.wav');
    expect(parsed.files[0]!.contentType).toBe('audio/wav');
    expect(parsed.files[0]!.data.toString('utf8')).toBe('RIFF\r\n--not-a-boundary\u0000\u00ff');
  });
});

describe('parseBody', () => {
  it.each([
    ['', undefined, { body: {}, files: [], invalidJson: false }],
    ['{"model":"x"}', 'application/json', { body: { model: 'x' }, files: [], invalidJson: false }],
    ['[1,2]', 'application/json', { body: {}, files: [], invalidJson: false }],
    ['{oops', 'application/json', { body: {}, files: [], invalidJson: true }],
  ])('%j', (raw, type, expected) => {
    expect(parseBody(Buffer.from(raw), type)).toEqual(expected);
  });
});

describe('hasCredentials', () => {
  it.each([
    [{ authorization: 'Bearer sk-1' }, true],
    [{ authorization: 'bearer x' }, true],
    [{ authorization: 'Bearer ' }, false],
    [{ authorization: 'Basic abc' }, false],
    [{ 'api-key': 'k' }, true],
    [{}, false],
  ])('%j -> %s', (headers, expected) => {
    expect(hasCredentials(headers)).toBe(expected);
  });
});

describe('contentKey', () => {
  it('ignores delivery and length fields but not content', () => {
    const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
    const key = contentKey('chat/completions', base, []);
    expect(contentKey('chat/completions', { ...base, stream: true, stream_options: { include_usage: true }, max_tokens: 5, n: 2, user: 'u' }, [])).toBe(key);
    expect(contentKey('chat/completions', { ...base, seed: 1 }, [])).not.toBe(key);
    expect(contentKey('chat/completions', { ...base, model: 'other' }, [])).not.toBe(key);
  });
});

describe('resolveRoute', () => {
  it.each([
    ['/v1/chat/completions', { provider: 'openai', op: 'chat/completions', needsApiVersion: false }],
    ['/v1/models/gpt-4o/', { provider: 'openai', op: 'models/gpt-4o', needsApiVersion: false }],
    ['/xai/v1/chat/completions', { provider: 'xai', op: 'chat/completions', needsApiVersion: false }],
    ['/openai/deployments/my%20dep/embeddings', { provider: 'azure', op: 'embeddings', deployment: 'my dep', needsApiVersion: true }],
    ['/openai/v1/responses', { provider: 'azure', op: 'responses', needsApiVersion: false }],
    ['/openai/responses', { provider: 'azure', op: 'responses', needsApiVersion: true }],
    ['/chat/completions', undefined],
  ])('%s', (path, expected) => {
    expect(resolveRoute(path)).toEqual(expected);
  });
});
