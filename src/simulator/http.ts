/** Response writers: common headers, JSON/bytes bodies and the delivery faults (truncate, malformed). */
import type { IncomingMessage } from 'node:http';
import type { RequestContext } from './context';
import type { ErrorReply } from './errors';

const MAX_BODY_BYTES = 64 * 1024 * 1024;

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy(new Error('request body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Headers every answer carries (request id, processing time, rate-limit window, Azure extras). */
export function commonHeaders(ctx: RequestContext): Record<string, string> {
  const headers: Record<string, string> = {
    'x-request-id': ctx.requestId,
    'openai-processing-ms': String(Date.now() - ctx.startedAt),
    'openai-version': '2020-10-01',
    ...ctx.state.rate.headers(),
  };
  if (ctx.route.provider === 'azure') {
    headers['apim-request-id'] = ctx.ids.fork('apim').uuid();
    headers['x-ms-region'] = 'East US';
  }
  return headers;
}

/** Sleeps, but returns early when the simulator closes. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Writes the first part of a body, then kills the connection (the `truncate` fault). */
function writeTruncated(ctx: RequestContext, data: Buffer): void {
  const cut = Math.max(1, Math.floor(data.length / 2));
  ctx.res.write(data.subarray(0, cut), () => ctx.res.destroy());
}

/** Invalid JSON that still looks like the start of an answer (the `malformed` fault). */
function malformedJson(ctx: RequestContext): string {
  return `{"id": "${ctx.requestId}", "object": "chat.completion", "choices": [{"index": 0, "message": {"content": "unterminated`;
}

export function sendBytes(ctx: RequestContext, status: number, contentType: string, data: Buffer, extra: Record<string, string> = {}): void {
  const { res } = ctx;
  if (res.destroyed || res.headersSent) return;
  if (status < 300 && ctx.fault === 'malformed') {
    const bad = Buffer.from(malformedJson(ctx));
    res.writeHead(200, { ...commonHeaders(ctx), ...extra, 'content-type': 'application/json', 'content-length': String(bad.length) });
    res.end(bad);
    return;
  }
  if (status < 300 && ctx.fault === 'truncate') {
    // chunked (no content-length), so every client can tell the body ended early
    res.writeHead(status, { ...commonHeaders(ctx), ...extra, 'content-type': contentType });
    writeTruncated(ctx, data);
    return;
  }
  res.writeHead(status, { ...commonHeaders(ctx), ...extra, 'content-type': contentType, 'content-length': String(data.length) });
  res.end(data);
}

export function sendJson(ctx: RequestContext, status: number, body: unknown, extra: Record<string, string> = {}): void {
  sendBytes(ctx, status, 'application/json', Buffer.from(JSON.stringify(body, null, 2)), extra);
}

export function sendText(ctx: RequestContext, text: string, contentType = 'text/plain; charset=utf-8'): void {
  sendBytes(ctx, 200, contentType, Buffer.from(text, 'utf8'));
}

export function sendError(ctx: RequestContext, error: ErrorReply): void {
  sendJson(ctx, error.status, error.body, error.headers);
}
