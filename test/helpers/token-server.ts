// A provider that makes a retry show whether it was rebuilt: every request's first attempt is
// answered 429 (retry after 10 ms); a later attempt carrying the token of an earlier one is
// refused with 401, as an expired token would be; a fresh token gets a chat completion.
import { createServer, type IncomingMessage } from 'node:http';

export interface SeenRequest {
  path: string;
  credential: string;
  retryCount: string | undefined;
  idempotencyKey: string | undefined;
  status: number;
}

function credentialOf(req: IncomingMessage): string {
  return String(req.headers['api-key'] ?? req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
}

export async function startTokenServer() {
  const seen: SeenRequest[] = [];
  const attemptsBy = new Map<string, number>();
  const used = new Set<string>();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      const family = path.startsWith('/azure') ? 'azure' : 'openai';
      const attempt = (attemptsBy.get(family) ?? 0) + 1;
      attemptsBy.set(family, attempt);
      const credential = credentialOf(req);
      let status = 200;
      if (attempt === 1) status = 429;
      else if (used.has(credential)) status = 401;
      used.add(credential);
      seen.push({ path, credential, retryCount: req.headers['x-stainless-retry-count'] as string | undefined, idempotencyKey: req.headers['idempotency-key'] as string | undefined, status });
      if (status === 429) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after-ms': '10' });
        res.end(JSON.stringify({ error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } }));
      } else if (status === 401) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'Expired token', type: 'invalid_request_error', code: 'invalid_api_key' } }));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'chatcmpl-token',
            object: 'chat.completion',
            created: 1,
            model: 'gpt-4o-mini-2024-07-18',
            choices: [{ index: 0, message: { role: 'assistant', content: 'fresh' }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 8, completion_tokens: 1, total_tokens: 9 },
          }),
        );
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    reset() {
      seen.length = 0;
      attemptsBy.clear();
      used.clear();
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * What a run against the token server must show, with or without the preload: each call
 * succeeded on its second attempt, which carried a new token and `x-stainless-retry-count: 1`.
 */
export function expectRebuiltRetries(expect: (v: unknown, m?: string) => any, out: Record<string, any>, seen: SeenRequest[]): void {
  for (const [name, family] of [
    ['apiKeyFunction', '/openai'],
    ['azureADTokenProvider', '/azure'],
  ] as const) {
    if (!(name in out)) continue;
    expect(out[name], name).toEqual({ ok: true, content: 'fresh' });
    const reqs = seen.filter((s) => s.path.startsWith(family));
    expect(
      reqs.map((r) => r.status),
      name,
    ).toEqual([429, 200]);
    expect(
      reqs.map((r) => r.retryCount),
      name,
    ).toEqual(['0', '1']);
    expect(reqs[1]!.credential, name).not.toBe(reqs[0]!.credential);
    expect(reqs[0]!.idempotencyKey, name).toBe(reqs[1]!.idempotencyKey);
  }
}
