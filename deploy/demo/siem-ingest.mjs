// A stand-in for a SIEM/SOAR ingest endpoint, for the compose demo (deploy/docker-compose.yml):
// Alertmanager's webhook (deploy/alertmanager/alertmanager.yml) posts its notifications here.
//
//   POST <any path>   answered 204; one JSON line per request on stdout
//                     (`docker compose logs -f siem-ingest`)
//   GET  /received    the last 100 requests, as JSON
//   GET  /healthz     200 ok
//
// Plain Node, no dependencies: `PORT=8080 node deploy/demo/siem-ingest.mjs`.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '0.0.0.0';
const MAX_BODY = 5 * 1024 * 1024;
const KEEP = 100;
const received = [];

/** One line per notification: for Alertmanager's payload, who fired and who resolved. */
function summary(body) {
  if (body && Array.isArray(body.alerts)) {
    return {
      receiver: body.receiver,
      status: body.status,
      alerts: body.alerts.map((a) => ({ status: a.status, ...a.labels })),
    };
  }
  return body;
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
  if (req.method === 'GET' && req.url === '/received') {
    return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(received));
  }
  if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY) {
      res.writeHead(413).end();
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (res.writableEnded) return;
    const text = Buffer.concat(chunks).toString('utf8');
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    const entry = { receivedAt: new Date().toISOString(), path: req.url, body };
    received.push(entry);
    if (received.length > KEEP) received.shift();
    process.stdout.write(`${JSON.stringify({ receivedAt: entry.receivedAt, path: entry.path, notification: summary(body) })}\n`);
    res.writeHead(204).end();
  });
});

server.listen(port, host, () => {
  const address = server.address();
  process.stdout.write(`siem-ingest listening on ${host}:${typeof address === 'object' && address ? address.port : port}\n`);
});

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
