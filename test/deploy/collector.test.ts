// The deploy kit's OpenTelemetry Collector configs, checked structurally (there is no collector
// binary in CI): every component a pipeline names is defined and every defined one is used,
// memory_limiter first and batch in every pipeline, the GenAI content attributes (from
// src/semconv.ts) removed from traces and logs, the audit pipelines carrying audit events only
// (their filter conditions are evaluated, not just grepped), and each SIEM exporter with the
// settings its component requires. docker-compose.yml is checked in collector-compose.test.ts.
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ATTR, AUDIT_ATTR, AUDIT_EVENT_NAME } from '../../src/semconv';
import {
  COLLECTOR_DIR,
  collectorConfigs,
  type Config,
  deletedKeys,
  type Kind,
  KINDS,
  load,
  type LogRecord,
  passesFilters,
  type Pipeline,
  pipelinesOf,
  signalOf,
  statementsOf,
  typeOf,
  withDefaults,
} from './collector-helpers';

/** The content attributes no trace or log may leave the collector with. */
const CONTENT_ATTRIBUTES = [ATTR.INPUT_MESSAGES, ATTR.OUTPUT_MESSAGES, ATTR.SYSTEM_INSTRUCTIONS];
const AUDIT_FILE = '/var/log/llm-governor/audit.jsonl';

/**
 * Component types these configs may use: all exist in otelcol-contrib under these names (current
 * spelling: `otlp_http`, `otlp_grpc`). A type outside this list is most likely a typo; add it
 * here once checked against the contrib component list.
 */
const KNOWN_TYPES: Record<Kind, string[]> = {
  receivers: ['otlp'],
  processors: ['memory_limiter', 'batch', 'transform', 'filter', 'attributes', 'redaction', 'resource'],
  exporters: ['otlp_http', 'otlp_grpc', 'prometheus', 'file', 'splunk_hec', 'elasticsearch', 'syslog', 'debug'],
  connectors: ['forward', 'routing'],
  extensions: ['health_check', 'file_storage', 'zpages', 'pprof'],
};

const AUDIT_RECORD: LogRecord = { eventName: AUDIT_EVENT_NAME, attributes: { [AUDIT_ATTR.KIND]: 'call_completed', [AUDIT_ATTR.OCSF_CLASS_UID]: 6003 } };
const NOT_AUDIT: Record<string, LogRecord> = {
  'a plain app log line': { attributes: {} },
  'the GenAI content event': { eventName: 'gen_ai.client.inference.operation.details', attributes: { [ATTR.INPUT_MESSAGES]: '[{"role":"user"}]' } },
  'another event': { eventName: 'app.checkout', attributes: { 'llm_governor.tenant': 'acme' } },
};

/** Settings each exporter type cannot do without (values as the collector sees them with env defaults applied). */
const REQUIRED: Record<string, (c: Config) => string[]> = {
  splunk_hec: (c) => [...missing(c, ['endpoint', 'token']), ...(/^https?:\/\//.test(withDefaults(c.endpoint)) ? [] : ['endpoint: an http(s) URL'])],
  elasticsearch: (c) => [
    ...((Array.isArray(c.endpoints) && c.endpoints.length && c.endpoints.every((e: unknown) => /^https?:\/\//.test(withDefaults(e)))) || /^https?:\/\//.test(withDefaults(c.endpoint ?? ''))
      ? []
      : ['endpoints (or endpoint): http(s) URLs']),
    ...(c.mapping?.mode === undefined || ['otel', 'ecs', 'raw', 'bodymap', 'none'].includes(c.mapping.mode) ? [] : ['mapping.mode: otel | ecs | raw | bodymap | none']),
  ],
  syslog: (c) => [
    ...missing(c, ['endpoint', 'port', 'network', 'protocol']),
    ...(['tcp', 'udp'].includes(withDefaults(c.network)) ? [] : ['network: tcp | udp']),
    ...(['rfc5424', 'rfc3164'].includes(withDefaults(c.protocol)) ? [] : ['protocol: rfc5424 | rfc3164']),
    ...(/^\d+$/.test(withDefaults(c.port)) && Number(withDefaults(c.port)) > 0 && Number(withDefaults(c.port)) < 65536 ? [] : ['port: 1..65535']),
    ...(c.enable_octet_counting && withDefaults(c.protocol) !== 'rfc5424' ? ['enable_octet_counting: rfc5424 only'] : []),
  ],
  file: (c) => [...missing(c, ['path']), ...(isAbsolute(withDefaults(c.path)) ? [] : ['path: absolute'])],
  otlp_http: (c) => [...missing(c, ['endpoint']), ...(/^https?:\/\//.test(withDefaults(c.endpoint)) ? [] : ['endpoint: an http(s) URL'])],
  prometheus: (c) => [...missing(c, ['endpoint']), ...(/:\d+$/.test(withDefaults(c.endpoint)) ? [] : ['endpoint: host:port'])],
};

function missing(c: Config, keys: string[]): string[] {
  return keys.filter((k) => c?.[k] === undefined || c[k] === null || c[k] === '');
}

const SIEM_TYPES = ['splunk_hec', 'elasticsearch', 'syslog', 'file'];

describe.each(collectorConfigs)('deploy/otel-collector/%s', (file) => {
  const path = join(COLLECTOR_DIR, file);
  const text = readFileSync(path, 'utf8');
  const cfg = load(path);
  const pipelines = pipelinesOf(cfg);

  it('has only the collector’s top-level sections and at least one pipeline', () => {
    expect(Object.keys(cfg).filter((k) => ![...KINDS, 'service'].includes(k))).toEqual([]);
    expect(pipelines.length).toBeGreaterThan(0);
    for (const [id, p] of pipelines) {
      expect(['traces', 'metrics', 'logs'], `pipeline ${id}`).toContain(signalOf(id));
      expect(p.receivers?.length, `${id} has receivers`).toBeGreaterThan(0);
      expect(p.exporters?.length, `${id} has exporters`).toBeGreaterThan(0);
    }
  });

  it('names components as type[/name] with types that exist in otelcol-contrib', () => {
    for (const kind of KINDS) {
      for (const id of Object.keys(cfg[kind] ?? {})) {
        expect(id, `${kind} id`).toMatch(/^[a-z][a-z0-9_]*(\/[A-Za-z0-9_.-]+)?$/);
        expect(KNOWN_TYPES[kind], `${kind}: ${id}`).toContain(typeOf(id));
      }
    }
  });

  it('defines every component a pipeline names', () => {
    const undefinedIds: string[] = [];
    const connectors = Object.keys(cfg.connectors ?? {});
    for (const [pid, p] of pipelines) {
      for (const id of p.receivers ?? []) if (!(id in (cfg.receivers ?? {})) && !connectors.includes(id)) undefinedIds.push(`${pid} receiver ${id}`);
      for (const id of p.processors ?? []) if (!(id in (cfg.processors ?? {}))) undefinedIds.push(`${pid} processor ${id}`);
      for (const id of p.exporters ?? []) if (!(id in (cfg.exporters ?? {})) && !connectors.includes(id)) undefinedIds.push(`${pid} exporter ${id}`);
    }
    for (const id of cfg.service?.extensions ?? []) if (!(id in (cfg.extensions ?? {}))) undefinedIds.push(`service extension ${id}`);
    expect(undefinedIds).toEqual([]);
  });

  it('uses every component it defines (extensions in service.extensions)', () => {
    const used = { receivers: new Set<string>(), processors: new Set<string>(), exporters: new Set<string>() };
    for (const [, p] of pipelines) {
      for (const id of p.receivers ?? []) used.receivers.add(id);
      for (const id of p.processors ?? []) used.processors.add(id);
      for (const id of p.exporters ?? []) used.exporters.add(id);
    }
    const unused: string[] = [];
    for (const kind of ['receivers', 'processors', 'exporters'] as const) for (const id of Object.keys(cfg[kind] ?? {})) if (!used[kind].has(id)) unused.push(`${kind} ${id}`);
    // A connector is used as an exporter of one pipeline and a receiver of another.
    for (const id of Object.keys(cfg.connectors ?? {})) if (!used.exporters.has(id) || !used.receivers.has(id)) unused.push(`connectors ${id}`);
    for (const id of Object.keys(cfg.extensions ?? {})) if (!(cfg.service?.extensions ?? []).includes(id)) unused.push(`extensions ${id}`);
    expect(unused).toEqual([]);
  });

  it('runs memory_limiter first and batch in every pipeline', () => {
    for (const [pid, p] of pipelines) {
      const procs = p.processors ?? [];
      expect(typeOf(procs[0] ?? ''), `${pid}: first processor`).toBe('memory_limiter');
      expect(procs.filter((id) => typeOf(id) === 'batch').length, `${pid}: batch`).toBe(1);
      // Filtering and redaction happen before batching, on single records.
      expect(typeOf(procs.at(-1)!), `${pid}: last processor`).toBe('batch');
    }
  });

  it('receives OTLP on 0.0.0.0:4317 (gRPC) and 0.0.0.0:4318 (HTTP)', () => {
    expect(cfg.receivers.otlp.protocols.grpc.endpoint).toBe('0.0.0.0:4317');
    expect(cfg.receivers.otlp.protocols.http.endpoint).toBe('0.0.0.0:4318');
  });

  it('removes the GenAI content attributes from spans, span events and log records', () => {
    const covered = (p: Pipeline, contexts: string[]) => {
      const deleted = new Map<string, Set<string>>();
      for (const id of p.processors ?? []) for (const [ctx, keys] of deletedKeys(id, cfg.processors[id])) for (const k of keys) (deleted.get(ctx) ?? deleted.set(ctx, new Set()).get(ctx)!).add(k);
      return contexts.flatMap((ctx) => CONTENT_ATTRIBUTES.filter((a) => !deleted.get(ctx)?.has(a)).map((a) => `${ctx}: ${a}`));
    };
    const traces = pipelines.filter(([id]) => signalOf(id) === 'traces');
    const logs = pipelines.filter(([id]) => signalOf(id) === 'logs');
    expect(traces.length + logs.length).toBeGreaterThan(0);
    for (const [pid, p] of traces) expect(covered(p, ['span', 'spanevent']), `${pid} still lets through`).toEqual([]);
    for (const [pid, p] of logs) expect(covered(p, ['log']), `${pid} still lets through`).toEqual([]);
  });

  it('keeps only llm_governor.audit events in the logs pipelines', () => {
    const logs = pipelines.filter(([id]) => signalOf(id) === 'logs');
    expect(logs.length).toBeGreaterThan(0);
    for (const [pid, p] of logs) {
      expect(passesFilters(cfg, p, AUDIT_RECORD), `${pid} keeps an audit event`).toBe(true);
      expect(passesFilters(cfg, p, { ...AUDIT_RECORD, eventName: undefined }), `${pid} keeps an audit event that lost its event name`).toBe(true);
      for (const [what, rec] of Object.entries(NOT_AUDIT)) expect(passesFilters(cfg, p, rec), `${pid} drops ${what}`).toBe(false);
      // The filter runs before anything is exported, and before the pipeline's other transforms.
      const procs = p.processors ?? [];
      const filterAt = procs.findIndex((id) => typeOf(id) === 'filter');
      expect(filterAt, `${pid}: the filter is right after memory_limiter`).toBe(1);
    }
  });

  it('prints metric names as the app’s own Prometheus exporter does (no unit suffix)', () => {
    for (const [pid, p] of pipelines.filter(([id, pl]) => signalOf(id) === 'metrics' && (pl.exporters ?? []).some((e) => typeOf(e) === 'prometheus'))) {
      const clears = (p.processors ?? []).some((id) => statementsOf(cfg.processors[id], 'metric_statements').some(([, s]) => /^set\(\s*(?:metric\.)?unit\s*,\s*""\s*\)/.test(s)));
      expect(clears, `${pid} clears the unit before the prometheus exporter`).toBe(true);
    }
    for (const [id, e] of Object.entries<Config>(cfg.exporters ?? {})) {
      if (typeOf(id) !== 'prometheus') continue;
      expect(e.endpoint).toBe('0.0.0.0:8889');
      // A decision, not a default: resource attributes stay on target_info.
      expect(typeof e.resource_to_telemetry_conversion?.enabled, `${id}.resource_to_telemetry_conversion.enabled`).toBe('boolean');
    }
  });

  it('gives every exporter the settings its component requires', () => {
    for (const [id, e] of Object.entries<Config>(cfg.exporters ?? {})) {
      const check = REQUIRED[typeOf(id)];
      expect(check, `a required-settings entry for ${typeOf(id)}`).toBeDefined();
      expect(check!(e), `${id} lacks`).toEqual([]);
    }
  });

  it('writes the audit trail to a rotated file', () => {
    const audit = Object.entries<Config>(cfg.exporters ?? {}).filter(([id, e]) => typeOf(id) === 'file' && e.path === AUDIT_FILE);
    expect(audit.length).toBe(1);
    const [id, e] = audit[0]!;
    expect(e.rotation?.max_megabytes).toBeGreaterThan(0);
    expect(e.rotation?.max_backups).toBeGreaterThan(0);
    expect(pipelines.some(([pid, p]) => signalOf(pid) === 'logs' && p.exporters?.includes(id))).toBe(true);
  });

  it('feeds the syslog exporter a message built from the OCSF body', () => {
    for (const [pid, p] of pipelines.filter(([, pl]) => (pl.exporters ?? []).some((e) => typeOf(e) === 'syslog'))) {
      const sets = (p.processors ?? []).flatMap((id) => statementsOf(cfg.processors[id], 'log_statements').map(([, s]) => s));
      expect(
        sets.some((s) => /^set\(\s*(?:log\.)?attributes\["message"\]\s*,\s*(?:log\.)?body\.string\s*\)$/.test(s)),
        `${pid} sets attributes["message"] from the body`,
      ).toBe(true);
      // Only syslog wants these attributes: the pipeline exports to syslog alone.
      expect((p.exporters ?? []).map(typeOf), pid).toEqual(['syslog']);
    }
  });

  it('uses only ${env:NAME} / ${env:NAME:-default} placeholders', () => {
    const placeholders = text.match(/\$\{[^}]*\}/g) ?? [];
    for (const ph of placeholders) expect(ph).toMatch(/^\$\{env:[A-Z_][A-Z0-9_]*(:-[^}]*)?\}$/);
    expect(text).not.toMatch(/\$[A-Za-z_]/); // a bare $VAR is not expanded
  });
});

describe('deploy/otel-collector: the reference and the compose config agree', () => {
  const reference = load(join(COLLECTOR_DIR, 'config.yaml'));
  const local = load(join(COLLECTOR_DIR, 'config.local.yaml'));

  it('config.yaml has every SIEM exporter, each in an audit pipeline', () => {
    for (const type of SIEM_TYPES) {
      const ids = Object.keys(reference.exporters).filter((id) => typeOf(id) === type);
      expect(ids.length, `a ${type} exporter`).toBeGreaterThan(0);
      for (const id of ids) {
        const inAudit = pipelinesOf(reference).some(([pid, p]) => signalOf(pid) === 'logs' && p.exporters?.includes(id) && p.processors?.some((x) => typeOf(x) === 'filter'));
        expect(inAudit, `${id} in a filtered logs pipeline`).toBe(true);
      }
    }
    // The HEC token has no default: a missing token stops the collector instead of losing events.
    const hec = Object.entries<Config>(reference.exporters).find(([id]) => typeOf(id) === 'splunk_hec')![1];
    expect(hec.token).toMatch(/^\$\{env:[A-Z_]+\}$/);
  });

  it('config.local.yaml needs nothing outside the compose project', () => {
    const external = Object.keys(local.exporters).filter((id) => !['file', 'prometheus', 'debug'].includes(typeOf(id)));
    expect(external).toEqual([]);
  });

  it('shares receivers, processors, extensions and telemetry settings unchanged', () => {
    expect(local.receivers).toEqual(reference.receivers);
    expect(local.extensions).toEqual(reference.extensions);
    expect(local.service.extensions).toEqual(reference.service.extensions);
    expect(local.service.telemetry).toEqual(reference.service.telemetry);
    for (const id of Object.keys(local.processors)) {
      expect(reference.processors[id], `config.yaml defines ${id}`).toBeDefined();
      expect(local.processors[id], id).toEqual(reference.processors[id]);
    }
    expect(local.exporters.prometheus).toEqual(reference.exporters.prometheus);
    expect(local.exporters['file/audit']).toEqual(reference.exporters['file/audit']);
    // The same processors, in the same order, per signal.
    const chains = (c: Config) =>
      Object.fromEntries(
        pipelinesOf(c)
          .filter(([id]) => id !== 'logs/audit_syslog')
          .map(([id, p]) => [id, p.processors]),
      );
    expect(chains(local)).toEqual(chains(reference));
  });
});
