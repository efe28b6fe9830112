import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { auditEvent, type OcsfApiActivity } from '../../src/audit/ocsf';
import { formatSyslog, parseSyslogUrl, severityOf } from '../../src/audit/syslog-format';
import { SyslogSink } from '../../src/audit/syslog-sink';

const source = { serviceName: 'checkout-api', hostname: 'web-1', productVersion: '0.1.0' };
const event = (i: number, kind: 'call_completed' | 'breaker_opened' = 'call_completed'): OcsfApiActivity =>
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

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, what: string, ms = 5_000): Promise<void> {
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

function parseMessage(raw: Buffer): Parsed {
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
function tcpCollector(port = 0, perConnection?: (socket: net.Socket, index: number) => ((m: Buffer) => void) | void): Promise<TcpCollector> {
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
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

const uidOf = (m: Buffer) => parseMessage(m).event.metadata.uid;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function sink(opts: ConstructorParameters<typeof SyslogSink>[0]): SyslogSink {
  const s = new SyslogSink(opts);
  cleanups.push(() => s.close());
  return s;
}

// ---- pure functions ------------------------------------------------------------------------------

describe('parseSyslogUrl', () => {
  it.each([
    ['tcp://127.0.0.1:5514', { protocol: 'tcp', host: '127.0.0.1', port: 5514 }],
    ['udp://[::1]:514', { protocol: 'udp', host: '::1', port: 514 }],
    ['tcp://host', { protocol: 'tcp', host: 'host', port: 514 }],
    ['UDP://collector.example.com:6514/', { protocol: 'udp', host: 'collector.example.com', port: 6514 }],
    ['udp://[2001:db8::7]', { protocol: 'udp', host: '2001:db8::7', port: 514 }],
  ])('%s', (url, want) => {
    expect(parseSyslogUrl(url)).toEqual(want);
  });

  it.each(['http://x', 'tcp://', 'tcp://h:99999', 'garbage', 'tcp://h:0', 'tcp://h:abc', 'udp://[::1', 'tcp://user@h:514', 'tcp://h:514/path', 'tcp://:514', ''])(
    'rejects %j with a message naming the variable and the expected form',
    (url) => {
      expect(() => parseSyslogUrl(url)).toThrow(/LLM_GOVERNOR_AUDIT_SYSLOG.*expected tcp:\/\/host:port or udp:\/\/host:port/);
    },
  );

  it('the constructor throws for a malformed url', () => {
    expect(() => new SyslogSink({ url: 'http://x' })).toThrow(/LLM_GOVERNOR_AUDIT_SYSLOG/);
  });
});

describe('severityOf', () => {
  it.each([
    [1, 6],
    [2, 5],
    [3, 4],
    [4, 3],
    [5, 2],
    [6, 1],
    [0, 6],
    [99, 6],
    [-1, 6],
    [Number.NaN, 6],
  ])('OCSF %d → syslog %d', (ocsf, want) => {
    expect(severityOf(ocsf)).toBe(want);
  });
});

describe('formatSyslog', () => {
  const opts = { hostname: 'web-1', appName: 'llm-governor', facility: 13, procId: '4242' };

  it('produces one RFC 5424 message whose MSG is the event as JSON after the BOM', () => {
    const e = event(1);
    const line = formatSyslog(e, opts);
    expect(line).not.toMatch(/[\r\n]/);
    const p = parseMessage(Buffer.from(line, 'utf8'));
    expect(p.pri).toBe(13 * 8 + 6);
    expect(line.startsWith('<110>1 ')).toBe(true);
    expect(p.timestamp).toBe('2025-10-09T08:53:20.001Z');
    expect(p.hostname).toBe('web-1');
    expect(p.appName).toBe('llm-governor');
    expect(p.procId).toBe('4242');
    expect(p.msgId).toBe('call_completed');
    expect(p.params).toEqual({ class_uid: '6003', kind: 'call_completed' });
    expect(p.event).toEqual(e);
  });

  it('PRI follows facility and severity; PROCID defaults to the pid', () => {
    const e = event(2, 'breaker_opened'); // OCSF High → syslog 3 (error)
    const line = formatSyslog(e, { hostname: 'h', appName: 'a', facility: 4 });
    const p = parseMessage(Buffer.from(line, 'utf8'));
    expect(p.pri).toBe(4 * 8 + 3);
    expect(p.procId).toBe(String(process.pid));
    expect(p.msgId).toBe('breaker_opened');
    // facility out of range falls back to 13
    expect(formatSyslog(e, { hostname: 'h', appName: 'a', facility: 99 }).startsWith(`<${13 * 8 + 3}>1 `)).toBe(true);
  });

  it('escapes ", \\ and ] in SD param values, and keeps MSGID printable ASCII', () => {
    const base = event(3);
    const kind = 'we"ird]\\kind';
    const e = { ...base, unmapped: { ...base.unmapped, kind } } as OcsfApiActivity;
    const line = formatSyslog(e, opts);
    expect(line).toContain('kind="we\\"ird\\]\\\\kind"]');
    const p = parseMessage(Buffer.from(line, 'utf8'));
    expect(p.params.kind).toBe(kind);
    expect(p.msgId).toBe(kind);
    expect(p.event).toEqual(e);
  });

  it('sanitises header fields: no spaces or non-ASCII, RFC length limits, "-" when empty or missing', () => {
    const base = event(4);
    const long = 'x'.repeat(300);
    const noKind = { ...base, unmapped: { ...base.unmapped, kind: undefined } } as unknown as OcsfApiActivity;
    const line = formatSyslog(noKind, { hostname: long, appName: 'my app ✓', facility: 13, procId: '' });
    const p = parseMessage(Buffer.from(line, 'utf8'));
    expect(p.hostname).toBe('x'.repeat(255));
    expect(p.appName).toBe('my_app__');
    expect(p.procId).toBe('-');
    expect(p.msgId).toBe('-');
    expect(p.params).toEqual({ class_uid: '6003' });

    const longKind = { ...base, unmapped: { ...base.unmapped, kind: 'k'.repeat(40) } } as OcsfApiActivity;
    const q = parseMessage(Buffer.from(formatSyslog(longKind, { hostname: '', appName: 'a'.repeat(60), facility: 13 }), 'utf8'));
    expect(q.hostname).toBe('-');
    expect(q.appName).toBe('a'.repeat(48));
    expect(q.msgId).toBe('k'.repeat(32));
    expect(q.params.kind).toBe('k'.repeat(40));
  });

  it('a time that is no valid timestamp becomes the NILVALUE', () => {
    const e = { ...event(5), time: 1e18 } as OcsfApiActivity;
    expect(parseMessage(Buffer.from(formatSyslog(e, opts), 'utf8')).timestamp).toBe('-');
  });
});

// ---- TCP -----------------------------------------------------------------------------------------

describe('SyslogSink over TCP', () => {
  it('delivers 1000 events in order, octet-counted, each a valid RFC 5424 message', async () => {
    const collector = await tcpCollector();
    cleanups.push(() => collector.close());
    const errors: unknown[] = [];
    const s = sink({ url: `tcp://127.0.0.1:${collector.port}`, hostname: 'web-1', onError: (e) => errors.push(e) });
    const events = Array.from({ length: 1000 }, (_, i) => event(i));
    for (const e of events) expect(s.write(e)).toBe(true);
    await s.flush();
    await waitFor(() => collector.messages.length >= 1000, '1000 messages');
    const parsed = collector.messages.map(parseMessage);
    expect(parsed.map((p) => p.event)).toEqual(events);
    for (const p of parsed) {
      expect(p.pri).toBe(110);
      expect(p.hostname).toBe('web-1');
      expect(p.appName).toBe('llm-governor');
      expect(p.procId).toBe(String(process.pid));
      expect(p.msgId).toBe('call_completed');
    }
    expect(errors).toEqual([]);
    expect(s.counters()).toEqual({ sent: 1000, dropped: 0, errors: 0 });
    expect(collector.connections).toBe(1);
  });

  it('queues while the collector is down and delivers everything once it is up', async () => {
    const port = await freePort();
    let errors = 0;
    const s = sink({
      url: `tcp://127.0.0.1:${port}`,
      retryMinMs: 50,
      retryMaxMs: 200,
      onError: () => {
        errors++;
        throw new Error('a broken callback'); // must not break the sink
      },
    });
    const events = Array.from({ length: 50 }, (_, i) => event(i));
    for (const e of events.slice(0, 25)) expect(s.write(e)).toBe(true);
    await s.flush(); // resolves after the failed attempt; does not hang
    expect(errors).toBeGreaterThanOrEqual(1);
    await sleep(300);
    for (const e of events.slice(25)) expect(s.write(e)).toBe(true);
    const collector = await tcpCollector(port);
    cleanups.push(() => collector.close());
    await waitFor(() => collector.messages.length >= 50, 'all 50 messages');
    expect(collector.messages.map(uidOf)).toEqual(events.map((e) => e.metadata.uid));
    expect(s.counters().errors).toBe(errors);
    expect(s.counters().dropped).toBe(0);
  });

  it('reconnects after the collector drops the connection, and every event arrives at least once', async () => {
    const collector = await tcpCollector(0, (socket, index) => {
      if (index > 0) return;
      let n = 0;
      return () => {
        if (++n === 40) socket.destroy(); // mid-stream, with more frames on the way
      };
    });
    cleanups.push(() => collector.close());
    const errors: unknown[] = [];
    const s = sink({ url: `tcp://127.0.0.1:${collector.port}`, retryMinMs: 20, retryMaxMs: 100, onError: (e) => errors.push(e) });
    const events = Array.from({ length: 400 }, (_, i) => event(i));
    for (const e of events.slice(0, 200)) expect(s.write(e)).toBe(true);
    await waitFor(() => collector.connections >= 2, 'a second connection');
    for (const e of events.slice(200)) expect(s.write(e)).toBe(true);
    const want = new Set(events.map((e) => e.metadata.uid));
    const seen = new Set<string>();
    let parsed = 0;
    const complete = () => {
      for (; parsed < collector.messages.length; parsed++) seen.add(uidOf(collector.messages[parsed]!));
      return seen.size >= want.size;
    };
    await waitFor(complete, 'every event at least once');
    expect(seen).toEqual(want);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(s.counters().dropped).toBe(0);
  });

  it('a full queue drops the new event and reports it', async () => {
    const port = await freePort();
    const drops: number[] = [];
    const s = sink({ url: `tcp://127.0.0.1:${port}`, maxQueue: 10, retryMinMs: 10_000, onDrop: (n) => drops.push(n) });
    for (let i = 0; i < 10; i++) expect(s.write(event(i))).toBe(true);
    expect(s.write(event(10))).toBe(false);
    expect(drops).toEqual([1]);
    expect(s.counters().dropped).toBe(1);
    await s.close();
    // what was still queued at close is given up on, and reported
    expect(drops).toEqual([1, 10]);
    expect(s.counters().dropped).toBe(11);
    expect(s.write(event(11))).toBe(false);
  });

  it('close() delivers what is queued, resolves, and leaves no socket or timer behind', async () => {
    const collector = await tcpCollector();
    const before = process.getActiveResourcesInfo();
    const s = new SyslogSink({ url: `tcp://127.0.0.1:${collector.port}` });
    for (let i = 0; i < 20; i++) s.write(event(i));
    await s.close();
    await s.close(); // idempotent
    await waitFor(() => collector.messages.length >= 20, '20 messages');
    expect(s.write(event(99))).toBe(false);
    s.flushSync(); // a no-op, does not throw
    await s.flush(); // resolves after close
    // The collector is still up, so it is the sink that must have closed its end (the collector's
    // end of the connection then closes too, on the sink's FIN).
    const count = (r: string[], type: string) => r.filter((t) => t === type).length;
    await waitFor(
      () => {
        const now = process.getActiveResourcesInfo();
        return ['TCPSocketWrap', 'TCPWrap', 'Timeout', 'Immediate'].every((t) => count(now, t) <= count(before, t));
      },
      'the sink to release its handles',
      2_000,
    );
    await collector.close();
  });

  it('close() with the collector down gives up within its bound and never rejects', async () => {
    const port = await freePort();
    const s = new SyslogSink({ url: `tcp://127.0.0.1:${port}`, retryMinMs: 10 });
    s.write(event(1));
    await expect(s.close()).resolves.toBeUndefined();
    expect(s.counters().dropped).toBe(1);
  });
});

// ---- UDP -----------------------------------------------------------------------------------------

describe('SyslogSink over UDP', () => {
  it('sends one datagram per event, each a valid RFC 5424 message with the JSON event', async () => {
    const server = dgram.createSocket('udp4');
    const received: Buffer[] = [];
    server.on('message', (m) => received.push(m));
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = server.address().port;
    const errors: unknown[] = [];
    const before = process.getActiveResourcesInfo().filter((t) => t === 'UDPWrap').length;
    const s = sink({ url: `udp://127.0.0.1:${port}`, facility: 10, onError: (e) => errors.push(e) });
    const events = Array.from({ length: 50 }, (_, i) => event(i));
    for (const e of events) expect(s.write(e)).toBe(true);
    await s.flush();
    await waitFor(() => received.length >= 50, '50 datagrams');
    const parsed = received.map(parseMessage);
    for (const p of parsed) {
      expect(p.pri).toBe(10 * 8 + 6);
      expect(p.msgId).toBe('call_completed');
    }
    // UDP may reorder in principle; on loopback it does not, but compare as sets
    expect(new Set(parsed.map((p) => p.event.metadata.uid))).toEqual(new Set(events.map((e) => e.metadata.uid)));
    for (const p of parsed) expect(p.event).toEqual(events.find((e) => e.metadata.uid === p.event.metadata.uid));
    expect(errors).toEqual([]);
    expect(s.counters()).toEqual({ sent: 50, dropped: 0, errors: 0 });

    await s.close();
    await waitFor(() => process.getActiveResourcesInfo().filter((t) => t === 'UDPWrap').length <= before, 'the UDP socket to close', 2_000);
  });

  it('drops a message too big for a datagram', () => {
    const drops: number[] = [];
    const s = sink({ url: 'udp://127.0.0.1:9', onDrop: (n) => drops.push(n) });
    const huge = { ...event(1), status_detail: 'x'.repeat(70_000) } as OcsfApiActivity;
    expect(s.write(huge)).toBe(false);
    expect(drops).toEqual([1]);
    expect(s.counters().dropped).toBe(1);
  });
});
