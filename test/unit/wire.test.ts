import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isReadWhole, withBody } from '../../src/pipeline/wire';

/**
 * `withBody`: a network answer whose body we read whole (to check it) must read, for the SDK and
 * for an app using `asResponse()`, exactly like the untouched answer: the same object, its body
 * readable once, by any method, with the same errors after.
 */
const BODY = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'héllo' } }] });
let url = '';
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'req_1' });
  res.end(BODY);
});

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** A real fetch answer, and the same answer read by us and made readable again. */
async function pair(): Promise<{ untouched: Response; read: Response; parsed: unknown }> {
  const untouched = await fetch(url);
  const network = await fetch(url);
  const text = await network.text();
  const parsed = JSON.parse(text);
  return { untouched, read: withBody(network, text, parsed), parsed };
}

describe('withBody: an answer read whole reads like the untouched one', () => {
  it('is the network object itself: url, status, headers, type', async () => {
    const { untouched, read } = await pair();
    expect(read).toBeInstanceOf(Response);
    expect(read.url).toBe(untouched.url);
    expect(read.status).toBe(200);
    expect(read.ok).toBe(true);
    expect(read.type).toBe(untouched.type);
    expect(read.redirected).toBe(false);
    expect(read.headers.get('x-request-id')).toBe('req_1');
    expect(isReadWhole(read)).toBe(true);
    expect(isReadWhole(untouched)).toBe(false);
    expect(Object.keys(read)).toEqual(Object.keys(untouched));
    await untouched.text();
  });

  it.each([
    ['text', (r: Response) => r.text()],
    ['json', (r: Response) => r.json()],
    ['arrayBuffer', (r: Response) => r.arrayBuffer().then((b) => Buffer.from(b).toString('utf8'))],
    ['bytes', (r: Response) => (r as Response & { bytes(): Promise<Uint8Array> }).bytes?.().then((b) => Buffer.from(b).toString('utf8')) ?? r.text()],
    ['blob', (r: Response) => r.blob().then((b) => b.text())],
    [
      'body stream',
      async (r: Response) => {
        const parts: Uint8Array[] = [];
        for await (const part of r.body as unknown as AsyncIterable<Uint8Array>) parts.push(part);
        return Buffer.concat(parts).toString('utf8');
      },
    ],
    ['clone, then text', (r: Response) => r.clone().text()],
  ])('%s: same value, then used, and a second read fails the same way', async (_name, read1) => {
    const { untouched, read } = await pair();
    expect(read.bodyUsed).toBe(untouched.bodyUsed);
    expect(await read1(read)).toEqual(await read1(untouched));
    expect(read.bodyUsed).toBe(untouched.bodyUsed);
    const again = async (r: Response) =>
      r.text().then(
        () => 'read',
        (e: Error) => e.constructor.name,
      );
    expect(await again(read)).toBe(await again(untouched));
  });

  it('the first json() hands over the value parsed when the body was checked: parsed once', async () => {
    const { read, parsed } = await pair();
    expect(await read.json()).toBe(parsed);
  });

  it('a clone taken before reading is independent of the original', async () => {
    const { read } = await pair();
    const clone = read.clone();
    expect(await read.text()).toBe(BODY);
    expect(await clone.json()).toEqual(JSON.parse(BODY));
  });

  it('a malformed body rejects json() with the SyntaxError the untouched answer gives', async () => {
    const network = await fetch(url);
    await network.text();
    const read = withBody(network, '{"id": "chatcmpl-1", "choi');
    const err = await read.json().catch((e: Error) => e);
    expect(err).toBeInstanceOf(SyntaxError);
    expect(read.bodyUsed).toBe(true);
  });

  it('blob() keeps the content type', async () => {
    const { untouched, read } = await pair();
    expect((await read.blob()).type).toBe((await untouched.blob()).type);
  });
});
