// The deploy kit's OpenTelemetry Collector configs and compose file, checked structurally (there
// is no collector binary or Docker engine in CI): every component a pipeline names is defined
// and every defined one is used, memory_limiter first and batch in every pipeline, the GenAI
// content attributes (from src/semconv.ts) removed from traces and logs, the audit pipelines
// carrying audit events only (their filter conditions are evaluated, not just grepped), each SIEM
// exporter with the settings its component requires; and docker-compose.yml's mounts, ports and
// service names agreeing with the collector, Prometheus, Alertmanager and Grafana files.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, posix, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ATTR, AUDIT_ATTR, AUDIT_EVENT_NAME } from '../../src/semconv';

const REPO = resolve(__dirname, '../..');
const DEPLOY = join(REPO, 'deploy');
const COLLECTOR_DIR = join(DEPLOY, 'otel-collector');
const COMPOSE_FILE = join(DEPLOY, 'docker-compose.yml');

/** The content attributes no trace or log may leave the collector with. */
const CONTENT_ATTRIBUTES = [ATTR.INPUT_MESSAGES, ATTR.OUTPUT_MESSAGES, ATTR.SYSTEM_INSTRUCTIONS];
const AUDIT_FILE = '/var/log/llm-governor/audit.jsonl';

type Kind = 'receivers' | 'processors' | 'exporters' | 'connectors' | 'extensions';
const KINDS: Kind[] = ['receivers', 'processors', 'exporters', 'connectors', 'extensions'];

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

type Config = Record<string, any>;
type Pipeline = { receivers?: string[]; processors?: string[]; exporters?: string[] };

const collectorConfigs = readdirSync(COLLECTOR_DIR)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();

function load(file: string): Config {
  // `yaml` rejects duplicate keys by default, as the collector does.
  return parseYaml(readFileSync(file, 'utf8'));
}

const typeOf = (id: string) => id.split('/')[0]!;
const pipelinesOf = (cfg: Config): [string, Pipeline][] => Object.entries(cfg.service?.pipelines ?? {}) as [string, Pipeline][];
const signalOf = (pipelineId: string) => pipelineId.split('/')[0]!;

/** `${env:NAME:-default}` → default, `${env:NAME}` → `<NAME>`: the value the collector would see unconfigured. */
function withDefaults(value: unknown): string {
  return String(value).replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, def: string | undefined) => (def === undefined ? `<${name}>` : def));
}

/** Statements of a transform processor for one signal, as [context, statement] pairs. */
function statementsOf(processor: Config | undefined, key: 'trace_statements' | 'log_statements' | 'metric_statements'): [string, string][] {
  const out: [string, string][] = [];
  for (const group of processor?.[key] ?? []) {
    if (typeof group === 'string') {
      // Flat style: the context is the path's prefix (span.attributes, log.attributes, …).
      const ctx = /\b(span|spanevent|log|metric|datapoint|resource|scope)\.\w/.exec(group)?.[1] ?? '';
      out.push([ctx, group.trim()]);
    } else {
      for (const s of group.statements ?? []) out.push([group.context, String(s).trim()]);
    }
  }
  return out;
}

/** Attribute keys a processor deletes unconditionally, per OTTL context (`span`, `spanevent`, `log`). */
function deletedKeys(id: string, processor: Config | undefined): Map<string, Set<string>> {
  const deleted = new Map<string, Set<string>>();
  const add = (ctx: string, key: string) => (deleted.get(ctx) ?? deleted.set(ctx, new Set()).get(ctx)!).add(key);
  if (typeOf(id) === 'transform') {
    for (const key of ['trace_statements', 'log_statements'] as const) {
      for (const [ctx, s] of statementsOf(processor, key)) {
        const m = /^delete_key\(\s*(?:(span|spanevent|log)\.)?attributes\s*,\s*"([^"]+)"\s*\)$/.exec(s);
        if (m) add(m[1] ?? ctx, m[2]!);
      }
    }
  }
  if (typeOf(id) === 'attributes') {
    // The attributes processor covers span and log record attributes, not span events.
    for (const a of processor?.actions ?? []) if (a.action === 'delete' && a.key) for (const ctx of ['span', 'log']) add(ctx, a.key);
  }
  return deleted;
}

// ── a small evaluator for the filter processor's OTTL conditions ──────────────────────────────

interface LogRecord {
  eventName?: string;
  attributes: Record<string, unknown>;
}

type Token = { t: 'str' | 'num' | 'ident' | 'op' | 'lp' | 'rp' | 'lb' | 'rb'; v: string };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) i++;
    else if (c === '"') {
      let s = '';
      i++;
      while (i < src.length && src[i] !== '"') {
        if (src[i] === '\\') i++;
        s += src[i++];
      }
      if (src[i] !== '"') throw new Error(`unterminated string in ${src}`);
      i++;
      out.push({ t: 'str', v: s });
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9.]+/.exec(src.slice(i))![0];
      out.push({ t: 'num', v: m });
      i += m.length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(src.slice(i))![0];
      out.push({ t: 'ident', v: m });
      i += m.length;
    } else if (/[=!<>]/.test(c)) {
      const m = /^(==|!=|<=|>=|<|>)/.exec(src.slice(i))?.[0];
      if (!m) throw new Error(`bad operator at ${src.slice(i)}`);
      out.push({ t: 'op', v: m });
      i += m.length;
    } else if (c === '(' || c === ')' || c === '[' || c === ']') {
      out.push({ t: ({ '(': 'lp', ')': 'rp', '[': 'lb', ']': 'rb' } as const)[c], v: c });
      i++;
    } else throw new Error(`unexpected ${c} in ${src}`);
  }
  return out;
}

/**
 * Whether an OTTL boolean condition is true for a log record. Covers what a log filter needs:
 * `and`, `or`, `not`, parentheses, comparisons of `event_name` / `attributes["k"]` (with or
 * without the `log.` prefix) against strings, numbers, booleans and `nil`. Anything else throws.
 */
function evalCondition(src: string, rec: LogRecord): boolean {
  const toks = tokenize(src);
  let p = 0;
  const peek = () => toks[p];
  const take = (t?: Token['t'], v?: string): Token => {
    const tok = toks[p];
    if (!tok || (t && tok.t !== t) || (v && tok.v !== v)) throw new Error(`unexpected ${tok?.v ?? 'end'} in ${src}`);
    p++;
    return tok;
  };
  const value = (): unknown => {
    const tok = take();
    if (tok.t === 'str') return tok.v;
    if (tok.t === 'num') return Number(tok.v);
    if (tok.t !== 'ident') throw new Error(`unexpected ${tok.v} in ${src}`);
    if (tok.v === 'nil') return undefined;
    if (tok.v === 'true' || tok.v === 'false') return tok.v === 'true';
    const path = tok.v.replace(/^log\./, '');
    if (path === 'event_name') return rec.eventName ?? '';
    if (path === 'attributes') {
      take('lb');
      const key = take('str').v;
      take('rb');
      return rec.attributes[key];
    }
    throw new Error(`path ${tok.v} not supported by this evaluator`);
  };
  const comparison = (): boolean => {
    const a = value();
    const op = take('op').v;
    const b = value();
    switch (op) {
      case '==':
        return a === b;
      case '!=':
        return a !== b;
      default:
        throw new Error(`operator ${op} not supported by this evaluator`);
    }
  };
  const factor = (): boolean => {
    const tok = peek();
    if (tok?.t === 'ident' && tok.v === 'not') {
      p++;
      return !factor();
    }
    if (tok?.t === 'lp') {
      p++;
      const v = expr();
      take('rp');
      return v;
    }
    return comparison();
  };
  const term = (): boolean => {
    let v = factor();
    while (peek()?.t === 'ident' && peek()!.v === 'and') {
      p++;
      const r = factor();
      v = v && r;
    }
    return v;
  };
  const expr = (): boolean => {
    let v = term();
    while (peek()?.t === 'ident' && peek()!.v === 'or') {
      p++;
      const r = term();
      v = v || r;
    }
    return v;
  };
  const result = expr();
  if (p !== toks.length) throw new Error(`trailing ${toks[p]!.v} in ${src}`);
  return result;
}

/** Whether a pipeline's filter processors let a log record through (a record is dropped when any condition is true). */
function passesFilters(cfg: Config, pipeline: Pipeline, rec: LogRecord): boolean {
  for (const id of pipeline.processors ?? []) {
    if (typeOf(id) !== 'filter') continue;
    const f = cfg.processors[id] ?? {};
    const conditions: string[] = [...(f.logs?.log_record ?? []), ...(f.log_conditions ?? [])];
    if (conditions.some((c) => evalCondition(c, rec))) return false;
  }
  return true;
}

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
    ...((Array.isArray(c.endpoints) && c.endpoints.length && c.endpoints.every((e: unknown) => /^https?:\/\//.test(withDefaults(e)))) || /^https?:\/\//.test(withDefaults(c.endpoint ?? '')) ? [] : ['endpoints (or endpoint): http(s) URLs']),
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
      expect(sets.some((s) => /^set\(\s*(?:log\.)?attributes\["message"\]\s*,\s*(?:log\.)?body\.string\s*\)$/.test(s)), `${pid} sets attributes["message"] from the body`).toBe(true);
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
    const chains = (c: Config) => Object.fromEntries(pipelinesOf(c).filter(([id]) => id !== 'logs/audit_syslog').map(([id, p]) => [id, p.processors]));
    expect(chains(local)).toEqual(chains(reference));
  });
});

// ── docker-compose.yml ────────────────────────────────────────────────────────────────────────

const compose = parseYaml(readFileSync(COMPOSE_FILE, 'utf8'));
const services: Record<string, Config> = compose.services;

/** [host path, container path] of a service's bind mounts (short or long syntax). */
function bindMounts(svc: Config): [string, string][] {
  const out: [string, string][] = [];
  for (const v of svc.volumes ?? []) {
    if (typeof v === 'string') {
      const [src, dst] = v.split(':');
      if (src!.startsWith('.') || src!.startsWith('/')) out.push([resolve(DEPLOY, src!), dst!]);
    } else if (v.type === 'bind') out.push([resolve(DEPLOY, v.source), v.target]);
  }
  return out;
}

/** The host file or folder behind a path inside a service's container, if a bind mount covers it. */
function hostPath(svc: Config, containerPath: string): string | undefined {
  for (const [host, target] of bindMounts(svc)) {
    const rel = posix.relative(target, containerPath);
    if (rel === '') return host;
    if (!rel.startsWith('..') && !posix.isAbsolute(rel)) return join(host, rel);
  }
  return undefined;
}

function envOf(svc: Config): Record<string, string> {
  const env = svc.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((e: string) => [e.split('=')[0], e.split('=').slice(1).join('=')]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}

function flag(svc: Config, name: string): string | undefined {
  const args: string[] = Array.isArray(svc.command) ? svc.command : String(svc.command ?? '').split(/\s+/);
  const hit = args.find((a) => a.startsWith(`--${name}=`));
  return hit?.slice(name.length + 3);
}

const portOf = (address: string) => Number(withDefaults(address).split(':').at(-1));

/** The collector config the compose file runs. */
function composeCollectorConfig(): { file: string; cfg: Config } {
  const svc = services['otel-collector']!;
  const file = hostPath(svc, flag(svc, 'config') ?? '/etc/otelcol-contrib/config.yaml');
  expect(file, 'the collector config is mounted').toBeDefined();
  return { file: file!, cfg: load(file!) };
}

/** The ports each compose service listens on, derived from its own settings. */
function listeningPorts(name: string): number[] {
  const svc = services[name]!;
  const env = envOf(svc);
  switch (name) {
    case 'demo':
      return [Number(env.DEMO_METRICS_PORT ?? 9464)];
    case 'otel-collector': {
      const { cfg } = composeCollectorConfig();
      const ports = [
        ...Object.values<Config>(cfg.receivers.otlp.protocols).map((p) => portOf(p.endpoint)),
        ...Object.entries<Config>(cfg.exporters).filter(([id]) => typeOf(id) === 'prometheus').map(([, e]) => portOf(e.endpoint)),
        ...(cfg.service.telemetry?.metrics?.readers ?? []).map((r: Config) => Number(r.pull?.exporter?.prometheus?.port)).filter(Boolean),
        ...Object.entries<Config>(cfg.extensions ?? {}).filter(([id]) => typeOf(id) === 'health_check').map(([, e]) => portOf(e.endpoint)),
      ];
      return ports;
    }
    case 'prometheus':
      return [portOf(flag(svc, 'web.listen-address') ?? ':9090')];
    case 'alertmanager':
      return [portOf(flag(svc, 'web.listen-address') ?? ':9093')];
    case 'grafana':
      return [Number(env.GF_SERVER_HTTP_PORT ?? 3000)];
    case 'siem-ingest':
      return [Number(env.PORT ?? 8080)];
    default:
      return [];
  }
}

/** `host:port` (or a URL) → a compose service listening there, or why not. */
function reachable(target: string): string | undefined {
  const url = /^[a-z]+:\/\//.test(target) ? new URL(target) : new URL(`http://${target}`);
  const service = url.hostname;
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  if (!services[service]) return `${target}: no compose service ${service}`;
  if (!listeningPorts(service).includes(port)) return `${target}: ${service} listens on ${listeningPorts(service).join(', ')}`;
  return undefined;
}

describe('deploy/docker-compose.yml', () => {
  it('has the kit’s services, with pinned images', () => {
    expect(Object.keys(services).sort()).toEqual(['alertmanager', 'demo', 'grafana', 'otel-collector', 'prometheus', 'siem-ingest']);
    for (const [name, svc] of Object.entries(services)) {
      if (svc.build) continue;
      expect(svc.image, `${name} image`).toMatch(/^[a-z0-9./_-]+:[A-Za-z0-9._-]+$/);
      expect(svc.image.split(':')[1], `${name} image tag`).not.toBe('latest');
    }
    for (const name of ['otel-collector', 'prometheus', 'alertmanager', 'grafana']) expect(services[name]!.image, name).toMatch(/:v?\d+\.\d+\.\d+$/);
    expect(services['otel-collector']!.image).toMatch(/^otel\/opentelemetry-collector-contrib:/);
  });

  it('mounts only host paths that exist, and declares its named volumes', () => {
    const absent: string[] = [];
    for (const [name, svc] of Object.entries(services)) {
      for (const [host] of bindMounts(svc)) if (!existsSync(host)) absent.push(`${name}: ${relative(REPO, host)}`);
      for (const v of svc.volumes ?? []) {
        const src = typeof v === 'string' ? v.split(':')[0]! : v.type === 'volume' ? v.source : '.';
        if (!src.startsWith('.') && !src.startsWith('/')) expect(compose.volumes ?? {}, `${name}: volume ${src}`).toHaveProperty(src);
      }
    }
    expect(absent).toEqual([]);
  });

  it('builds the demo image from files that exist and that its ignore file lets through', () => {
    const build = services.demo!.build;
    const context = resolve(DEPLOY, build.context);
    const dockerfile = join(context, build.dockerfile);
    expect(existsSync(dockerfile)).toBe(true);
    const ignore = readFileSync(`${dockerfile}.dockerignore`, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('*');
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1));
    for (const line of readFileSync(dockerfile, 'utf8').split('\n')) {
      const m = /^COPY\s+(.+)\s+\S+$/.exec(line.trim());
      if (!m) continue;
      for (const src of m[1]!.split(/\s+/)) {
        expect(existsSync(join(context, src)), `COPY ${src}`).toBe(true);
        expect(allowed.some((a) => src === a || src.startsWith(`${a}/`)), `${src} passes Dockerfile.dockerignore`).toBe(true);
      }
    }
  });

  it('points the demo at the collector (OTLP/HTTP traces and logs) and serves /metrics beyond localhost', () => {
    const env = envOf(services.demo!);
    expect(env.OTEL_TRACES_EXPORTER).toBe('otlp');
    expect(env.OTEL_LOGS_EXPORTER).toBe('otlp');
    expect(env.DEMO_METRICS_HOST).toBe('0.0.0.0');
    expect(reachable(env.OTEL_EXPORTER_OTLP_ENDPOINT!)).toBeUndefined();
    const { cfg } = composeCollectorConfig();
    expect(portOf(cfg.receivers.otlp.protocols.http.endpoint)).toBe(Number(new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT!).port));
    expect(env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').toMatch(/^http\//);
  });

  it('keeps the demo running, with fault windows long enough for the breaker alert', () => {
    const args: string[] = services.demo!.command;
    expect(args).toContain('--serve');
    const faultSeconds = Number(args[args.indexOf('--fault-seconds') + 1]);
    // The breaker stays open for the fault window; the alert needs it open for its `for:`, seen by
    // Prometheus at consecutive evaluations: slack for the scrape, the evaluation and the opening.
    const rulesFile = join(DEPLOY, 'prometheus/rules/llm-governor-alerts.yml');
    const promFile = join(DEPLOY, 'prometheus/prometheus.yml');
    const seconds = (d: string) => [...String(d).matchAll(/(\d+)([smh])/g)].reduce((a, m) => a + Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'], 0);
    let needed = 75;
    if (existsSync(rulesFile) && existsSync(promFile)) {
      const rule = load(rulesFile).groups.flatMap((g: Config) => g.rules).find((r: Config) => r.alert === 'LlmGovernorBreakerOpen');
      const interval = seconds(load(promFile).global?.evaluation_interval ?? '1m');
      if (rule) needed = seconds(rule.for ?? '0s') + 3 * interval;
    }
    expect(faultSeconds).toBeGreaterThanOrEqual(needed);
  });

  it('runs the compose collector config, writing its files to a volume', () => {
    const { file, cfg } = composeCollectorConfig();
    expect(relative(COLLECTOR_DIR, file)).toBe('config.local.yaml');
    const svc = services['otel-collector']!;
    const volumeTargets = (svc.volumes ?? []).map((v: string | Config) => (typeof v === 'string' ? v.split(':')[1] : v.target));
    for (const [id, e] of Object.entries<Config>(cfg.exporters).filter(([x]) => typeOf(x) === 'file')) {
      expect(volumeTargets.some((t: string) => !posix.relative(t, posix.dirname(e.path)).startsWith('..')), `${id} writes to a mounted volume`).toBe(true);
    }
  });

  it('mounts Grafana’s provisioning, and the dashboards where the provider reads them', () => {
    const grafana = services.grafana!;
    expect(hostPath(grafana, '/etc/grafana/provisioning')).toBe(join(DEPLOY, 'grafana/provisioning'));
    const dir = join(DEPLOY, 'grafana/provisioning/dashboards');
    const providers = existsSync(dir) ? readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)) : [];
    for (const f of providers) {
      for (const p of load(join(dir, f)).providers ?? []) {
        expect(hostPath(grafana, p.options.path), `${f}: ${p.options.path}`).toBe(join(DEPLOY, 'grafana/dashboards'));
      }
    }
    const home = envOf(grafana).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    if (home) expect(existsSync(hostPath(grafana, home) ?? ''), home).toBe(true);
  });

  it.skipIf(!existsSync(join(DEPLOY, 'grafana/provisioning/datasources')))('points Grafana’s datasources at compose services', () => {
    const dir = join(DEPLOY, 'grafana/provisioning/datasources');
    for (const f of readdirSync(dir).filter((x) => /\.ya?ml$/.test(x))) {
      for (const ds of load(join(dir, f)).datasources ?? []) if (ds.url) expect(reachable(ds.url), `${f}: ${ds.name}`).toBeUndefined();
    }
  });

  it.skipIf(!existsSync(join(DEPLOY, 'prometheus/prometheus.yml')))('lines up prometheus.yml’s targets with the compose services and ports', () => {
    const svc = services.prometheus!;
    const configFile = hostPath(svc, flag(svc, 'config.file') ?? '/etc/prometheus/prometheus.yml');
    expect(configFile).toBe(join(DEPLOY, 'prometheus/prometheus.yml'));
    const prom = load(configFile!);
    const problems: string[] = [];
    const targets: string[] = [];
    for (const job of prom.scrape_configs ?? []) for (const sc of job.static_configs ?? []) targets.push(...sc.targets);
    for (const am of prom.alerting?.alertmanagers ?? []) for (const sc of am.static_configs ?? []) targets.push(...sc.targets);
    for (const t of targets) {
      const why = reachable(t);
      if (why) problems.push(why);
    }
    expect(problems).toEqual([]);
    expect(targets, 'scrapes the demo').toContain(`demo:${listeningPorts('demo')[0]}`);
    expect(targets, 'alerts the compose Alertmanager').toContain(`alertmanager:${listeningPorts('alertmanager')[0]}`);
    // Rule files resolve inside the mounted folder.
    for (const pattern of prom.rule_files ?? []) {
      const dir = join(dirname(configFile!), dirname(pattern));
      const re = new RegExp(`^${posix.basename(pattern).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
      expect(existsSync(dir) && readdirSync(dir).some((f) => re.test(f)), `rule_files ${pattern}`).toBe(true);
    }
  });

  it.skipIf(!existsSync(join(DEPLOY, 'alertmanager/alertmanager.yml')))('lines up Alertmanager’s webhooks with the compose services and ports', () => {
    const svc = services.alertmanager!;
    const configFile = hostPath(svc, flag(svc, 'config.file') ?? '/etc/alertmanager/alertmanager.yml');
    expect(configFile).toBe(join(DEPLOY, 'alertmanager/alertmanager.yml'));
    const am = load(configFile!);
    const urls = (am.receivers ?? []).flatMap((r: Config) => (r.webhook_configs ?? []).map((w: Config) => w.url)).filter(Boolean);
    expect(urls.length).toBeGreaterThan(0);
    for (const u of urls) expect(reachable(u), u).toBeUndefined();
  });

  it('runs the SIEM webhook stand-in it mounts, which answers POSTs and logs them', async () => {
    const svc = services['siem-ingest']!;
    const script = hostPath(svc, svc.command.at(-1));
    expect(script && statSync(script).isFile()).toBe(true);
    const child = spawn(process.execPath, [script!], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const port = await new Promise<number>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`no listening line: ${out}`)), 10_000);
        child.stdout.on('data', () => {
          const m = /listening on [^:]+:(\d+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            res(Number(m[1]));
          }
        });
      });
      const notification = { receiver: 'siem', status: 'firing', alerts: [{ status: 'firing', labels: { alertname: 'LlmGovernorBreakerOpen', severity: 'critical' } }] };
      const posted = await fetch(`http://127.0.0.1:${port}/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(notification) });
      expect(posted.status).toBe(204);
      const received = (await (await fetch(`http://127.0.0.1:${port}/received`)).json()) as { path: string; body: unknown }[];
      expect(received).toEqual([expect.objectContaining({ path: '/alertmanager', body: notification })]);
      expect(out).toContain('LlmGovernorBreakerOpen');
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
