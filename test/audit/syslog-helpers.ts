import * as net from 'node:net';
import { expect } from 'vitest';
import { auditEvent, type OcsfApiActivity } from '../../src/audit/ocsf';
import { SyslogSink } from '../../src/audit/syslog-sink';

// What the syslog tests share: sample events, parsing what the sink sends, a fake TCP collector,
// and the sinks and servers a test leaves for `runCleanups` (each test file calls it afterEach).

const source = { serviceName: 'checkout-api', hostname: 'web-1', productVersion: '0.1.0' };
export const event = (i: number, kind: 'call_completed' | 'breaker_opened' = 'call_completed'): OcsfApiActivity =>
  auditEvent(kind, {
    source,
    time: 1_760_000_000_000 + i,
    eventId: `e-${i}`,
    traceId: '0af7651916cd43dd8448eb211c80319c',
    operation: 'chat',
    provider: 'openai',
    providerHost: 'api.openai.com',
    providerPort: 443,
    model: 'gpt-4o-mini',
    userHash: 'u_3f1c2a9b',
    tenant: 'acme',
    usage: { promptTokens: i % 500, completionTokens: 7 },
    costUsd: 0.000001 * i,
    message: `call ${i}: ünïcödé ✓`,
  });

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitFor(cond: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

// ---- parsing what the sink sends -------------------------------------------------------------

const BOM_BYTES = Buffer.from([0xef, 0xbb, 0xbf]);
/** `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG`; SD is one element with escaped values. */
const RFC5424 = /^<(\d{1,3})>1 (\S+) (\S{1,255}) (\S{1,48}) (\S{1,128}) (\S{1,32}) (\[llmgov@32473(?: [a-z_]+="(?:[^"\\\]]|\\["\\\]])*")*\]) ([\s\S]*)$/;

interface Parsed {
  pri: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  params: Record<string, string>;
  event: OcsfApiActivity;
}

export function parseMessage(raw: Buffer): Parsed {
  const text = raw.toString('utf8');
  const m = RFC5424.exec(text);
  if (!m) throw new Error(`not an RFC 5424 message: ${text.slice(0, 200)}`);
  const params: Record<string, string> = {};
  for (const p of m[7]!.matchAll(/ ([a-z_]+)="((?:[^"\\\]]|\\["\\\]])*)"/g)) params[p[1]!] = p[2]!.replace(/\\(["\\\]])/g, '$1');
  // MSG starts with the UTF-8 BOM, as bytes
  const headerBytes = Buffer.byteLength(text.slice(0, text.length - m[8]!.length), 'utf8');
  expect(raw.subarray(headerBytes, headerBytes + 3).equals(BOM_BYTES)).toBe(true);
  expect(m[8]!.startsWith('\uFEFF')).toBe(true);
  return {
    pri: Number(m[1]),
    timestamp: m[2]!,
    hostname: m[3]!,
    appName: m[4]!,
    procId: m[5]!,
    msgId: m[6]!,
    params,
    event: JSON.parse(m[8]!.slice(1)) as OcsfApiActivity,
  };
}

/** Splits an octet-counted stream (RFC 6587 §3.4.1) into messages. */
function octetCounting(onMessage: (m: Buffer) => void): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      const sp = buf.indexOf(0x20);
      if (sp < 0) break;
      const len = buf.subarray(0, sp).toString('ascii');
      if (!/^[1-9][0-9]{0,8}$/.test(len)) throw new Error(`bad frame length ${JSON.stringify(len)}`);
      const end = sp + 1 + Number(len);
      if (buf.length < end) break;
      onMessage(buf.subarray(sp + 1, end));
      buf = buf.subarray(end);
    }
  };
}

interface TcpCollector {
  port: number;
  messages: Buffer[];
  connections: number;
  close(): Promise<void>;
}

/** A syslog-over-TCP listener on 127.0.0.1. `onConnection` may return a per-frame hook. */
export function tcpCollector(port = 0, perConnection?: (socket: net.Socket, index: number) => ((m: Buffer) => void) | undefined): Promise<TcpCollector> {
  const messages: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const hook = perConnection?.(socket, connections);
    connections++;
    const feed = octetCounting((m) => {
      messages.push(Buffer.from(m));
      hook?.(m);
    });
    socket.on('data', (chunk) => {
      if (!socket.destroyed) feed(chunk);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        messages,
        get connections() {
          return connections;
        },
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

/** A port nothing listens on (right now). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export const uidOf = (m: Buffer) => parseMessage(m).event.metadata.uid;

export const cleanups: (() => Promise<void> | void)[] = [];

/** Runs (newest first) and forgets what the last test left in `cleanups`. */
export async function runCleanups(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c();
}

/** A sink that is closed after the test. */
export function sink(opts: ConstructorParameters<typeof SyslogSink>[0]): SyslogSink {
  const s = new SyslogSink(opts);
  cleanups.push(() => s.close());
  return s;
}
