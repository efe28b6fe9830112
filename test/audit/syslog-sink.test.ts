import * as dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { OcsfApiActivity } from '../../src/audit/ocsf';
import { SyslogSink } from '../../src/audit/syslog-sink';
import { cleanups, event, freePort, parseMessage, runCleanups, sink, sleep, tcpCollector, uidOf, waitFor } from './syslog-helpers';

// The message format and the URL are tested on their own in syslog-format.test.ts.

afterEach(runCleanups);

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
