import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { RECORDINGS_DIR } from '../simulator/helpers';

interface Exchange {
  method: string;
  path: string;
  request: unknown;
  status: number;
  content_type: string;
  response: unknown;
}

/**
 * Serves one recorded exchange file (test/fixtures/recordings/openai) exactly as recorded, in order,
 * so a real client under the preload can be checked against real provider bytes.
 */
export async function startReplay(file: string) {
  const exchanges: Exchange[] = JSON.parse(readFileSync(join(RECORDINGS_DIR, file), 'utf8'));
  let next = 0;
  const received: unknown[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push(body ? JSON.parse(body) : undefined);
      const ex = exchanges[Math.min(next++, exchanges.length - 1)];
      res.writeHead(ex.status, { 'content-type': ex.content_type, 'x-request-id': `req_replay_${next}` });
      res.end(typeof ex.response === 'string' ? ex.response : JSON.stringify(ex.response));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    exchanges,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
