import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { decodeLogsRequest, decodeTraceRequest } from './otlp-proto';

/** A span as the test sees it: attributes flattened to plain values. */
export interface TestSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
  status: { code?: number; message?: string };
  events: { name: string; attributes: Record<string, unknown> }[];
  startNs: bigint;
  endNs: bigint;
}

export interface TestLogRecord {
  eventName?: string;
  body: unknown;
  attributes: Record<string, unknown>;
}

type AnyValue = Record<string, any>;

function plainValue(v: AnyValue | undefined): unknown {
  if (!v) return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('boolValue' in v) return v.boolValue;
  if ('arrayValue' in v) return (v.arrayValue.values ?? []).map(plainValue);
  if ('kvlistValue' in v) return attrs(v.kvlistValue.values);
  if ('bytesValue' in v) return v.bytesValue;
  return undefined;
}

function attrs(list: { key: string; value: AnyValue }[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of list ?? []) out[a.key] = plainValue(a.value);
  return out;
}

/**
 * A minimal OTLP/HTTP receiver for JSON and protobuf payloads (`OTEL_EXPORTER_OTLP_PROTOCOL`
 * `http/json` or `http/protobuf`): the real exporters of the app under test send to it.
 * `logsStatus` answers every logs export with that status instead (a collector that refuses).
 */
export async function startOtlpReceiver(opts: { logsStatus?: number } = {}) {
  const spans: TestSpan[] = [];
  const logs: TestLogRecord[] = [];
  const raw: { path: string; text: string }[] = [];
  const readJson = (url: string, body: any) => {
    if (url.endsWith('/v1/traces')) {
      for (const rs of body.resourceSpans ?? [])
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? [])
            spans.push({
              name: s.name,
              kind: s.kind,
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId || undefined,
              attributes: attrs(s.attributes),
              status: s.status ?? {},
              events: (s.events ?? []).map((e: any) => ({ name: e.name, attributes: attrs(e.attributes) })),
              startNs: BigInt(s.startTimeUnixNano),
              endNs: BigInt(s.endTimeUnixNano),
            });
    } else if (url.endsWith('/v1/logs')) {
      for (const rl of body.resourceLogs ?? [])
        for (const sl of rl.scopeLogs ?? []) for (const l of sl.logRecords ?? []) logs.push({ eventName: l.eventName, body: plainValue(l.body), attributes: attrs(l.attributes) });
    }
  };
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      let buf = Buffer.concat(parts);
      if (req.headers['content-encoding'] === 'gzip') buf = gunzipSync(buf);
      const text = buf.toString('utf8');
      raw.push({ path: req.url ?? '', text });
      const refused = opts.logsStatus !== undefined && req.url?.endsWith('/v1/logs');
      try {
        if (refused) {
          /* counted as raw only */
        } else if ((req.headers['content-type'] ?? '').includes('protobuf')) {
          if (req.url?.endsWith('/v1/traces')) spans.push(...decodeTraceRequest(buf));
          else if (req.url?.endsWith('/v1/logs')) logs.push(...decodeLogsRequest(buf));
        } else {
          readJson(req.url ?? '', JSON.parse(text));
        }
      } catch {
        /* keep the raw text for secret scans */
      }
      if (refused) {
        res.writeHead(opts.logsStatus!, { 'content-type': 'application/json' });
        res.end('{"code":13,"message":"refused by the test"}');
        return;
      }
      const proto = (req.headers['content-type'] ?? '').includes('protobuf');
      res.writeHead(200, { 'content-type': proto ? 'application/x-protobuf' : 'application/json' });
      res.end(proto ? '' : '{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    logs,
    raw,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
