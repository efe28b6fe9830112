import { describe, expect, it } from 'vitest';
import type { OcsfApiActivity } from '../../src/audit/ocsf';
import { formatSyslog, parseSyslogUrl, severityOf } from '../../src/audit/syslog-format';
import { SyslogSink } from '../../src/audit/syslog-sink';
import { event, parseMessage } from './syslog-helpers';

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
