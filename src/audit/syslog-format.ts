import * as net from 'node:net';
import type { OcsfApiActivity } from './ocsf';

/**
 * The syslog message format (RFC 5424) and the sink's URL: see `syslog-sink.ts` for what each
 * field holds and how messages travel.
 */

const ENV_NAME = 'LLM_GOVERNOR_AUDIT_SYSLOG';
const DEFAULT_PORT = 514;
export const DEFAULT_APP_NAME = 'llm-governor';
export const DEFAULT_FACILITY = 13; // log audit
const SD_ID = 'llmgov@32473';
const BOM = '\uFEFF';

/**
 * Parses `tcp://host:port` or `udp://host:port` (IPv6 hosts in brackets, port 514 when omitted).
 * Throws an `Error` naming `LLM_GOVERNOR_AUDIT_SYSLOG` and the expected form for anything else.
 */
export function parseSyslogUrl(url: string): { protocol: 'tcp' | 'udp'; host: string; port: number } {
  const bad = (why: string): Error => {
    const shown = typeof url === 'string' ? JSON.stringify(url.length > 200 ? `${url.slice(0, 200)}…` : url) : String(url);
    return new Error(`${ENV_NAME}: ${why}; expected tcp://host:port or udp://host:port (port 1-65535, ${DEFAULT_PORT} when omitted; IPv6 hosts in brackets, e.g. udp://[::1]:514), got ${shown}`);
  };
  if (typeof url !== 'string') throw bad('not a string');
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/.exec(url.trim());
  if (!m) throw bad('not a URL');
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'tcp' && scheme !== 'udp') throw bad(`unsupported scheme "${m[1]}"`);
  const rest = m[2]!.replace(/\/$/, '');
  if (rest === '') throw bad('missing host');
  if (rest.includes('@')) throw bad('credentials are not supported');
  if (/[/?#]/.test(rest)) throw bad('a path, query or fragment is not supported');

  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const hp = /^\[([^\]]*)\](?::(.*))?$/.exec(rest);
    if (!hp) throw bad('malformed IPv6 host');
    host = hp[1]!;
    portText = hp[2];
    if (net.isIPv6(host) === false) throw bad(`"${host}" is not an IPv6 address`);
  } else {
    const hp = /^([^:]*)(?::(.*))?$/.exec(rest);
    if (!hp) throw bad('malformed host');
    host = hp[1]!;
    portText = hp[2];
    if (host === '') throw bad('missing host');
    if (!/^[A-Za-z0-9._-]+$/.test(host) || host.length > 253) throw bad(`"${host}" is not a host name or IPv4 address`);
  }

  let port = DEFAULT_PORT;
  if (portText !== undefined) {
    if (!/^[0-9]{1,5}$/.test(portText)) throw bad(`port "${portText}" is not a number`);
    port = Number(portText);
    if (port < 1 || port > 65535) throw bad(`port ${port} is out of range`);
  }
  return { protocol: scheme, host, port };
}

/** OCSF `severity_id` → syslog severity: 1→6 info, 2→5 notice, 3→4 warning, 4→3 err, 5→2 crit, 6→1 alert; else 6. */
export function severityOf(ocsfSeverityId: number): number {
  switch (ocsfSeverityId) {
    case 1:
      return 6;
    case 2:
      return 5;
    case 3:
      return 4;
    case 4:
      return 3;
    case 5:
      return 2;
    case 6:
      return 1;
    default:
      return 6;
  }
}

/** Printable US-ASCII without spaces, at most `max` characters; `-` (NILVALUE) when empty. */
function headerField(value: unknown, max: number): string {
  if (typeof value !== 'string') return '-';
  const clean = value
    .trim()
    .replace(/[^\x21-\x7e]/gu, '_')
    .slice(0, max);
  return clean === '' ? '-' : clean;
}

/** RFC 5424 §6.3.3: `"`, `\` and `]` in a PARAM-VALUE are escaped with a backslash. */
function paramValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

function timestamp(ms: unknown): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '-';
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  if (Number.isNaN(d.getTime()) || year < 0 || year > 9999) return '-';
  return d.toISOString();
}

export function validFacility(facility: unknown): number {
  return typeof facility === 'number' && Number.isInteger(facility) && facility >= 0 && facility <= 23 ? facility : DEFAULT_FACILITY;
}

/**
 * One RFC 5424 message for `event`, without transport framing. A facility outside 0..23 falls back
 * to 13. Throws only when the event cannot be serialised to JSON.
 */
export function formatSyslog(event: OcsfApiActivity, opts: { hostname: string; appName: string; facility: number; procId?: string }): string {
  const pri = validFacility(opts.facility) * 8 + severityOf(event.severity_id);
  const kind = (event.unmapped as { kind?: unknown } | undefined)?.kind;
  const params: string[] = [];
  if (event.class_uid !== undefined && event.class_uid !== null) params.push(`class_uid="${paramValue(String(event.class_uid))}"`);
  if (typeof kind === 'string') params.push(`kind="${paramValue(kind)}"`);
  const sd = `[${[SD_ID, ...params].join(' ')}]`;
  const msg = JSON.stringify(event);
  if (typeof msg !== 'string') throw new TypeError('audit event does not serialise to JSON');
  return [
    `<${pri}>1`,
    timestamp(event.time),
    headerField(opts.hostname, 255),
    headerField(opts.appName, 48),
    headerField(opts.procId ?? String(process.pid), 128),
    headerField(kind, 32),
    sd,
    BOM + msg,
  ].join(' ');
}
