// How the deploy tests read deploy/: the files' locations, YAML loading, pipeline and OTTL
// lookups on collector configs, a small evaluator for the filter processor's conditions, and
// lookups on docker-compose.yml. What the files must say stays in the tests; this module only
// says how to read them, so collector.test.ts and collector-compose.test.ts read them the same way.
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { expect } from 'vitest';
import { parse as parseYaml } from 'yaml';

export const REPO = resolve(__dirname, '../..');
export const DEPLOY = join(REPO, 'deploy');
export const COLLECTOR_DIR = join(DEPLOY, 'otel-collector');
const COMPOSE_FILE = join(DEPLOY, 'docker-compose.yml');

export type Kind = 'receivers' | 'processors' | 'exporters' | 'connectors' | 'extensions';
export const KINDS: Kind[] = ['receivers', 'processors', 'exporters', 'connectors', 'extensions'];

export type Config = Record<string, any>;
export type Pipeline = { receivers?: string[]; processors?: string[]; exporters?: string[] };

export const collectorConfigs = readdirSync(COLLECTOR_DIR)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();

export function load(file: string): Config {
  // `yaml` rejects duplicate keys by default, as the collector does.
  return parseYaml(readFileSync(file, 'utf8'));
}

export const typeOf = (id: string) => id.split('/')[0]!;
export const pipelinesOf = (cfg: Config): [string, Pipeline][] => Object.entries(cfg.service?.pipelines ?? {}) as [string, Pipeline][];
export const signalOf = (pipelineId: string) => pipelineId.split('/')[0]!;

/** `${env:NAME:-default}` → default, `${env:NAME}` → `<NAME>`: the value the collector would see unconfigured. */
export function withDefaults(value: unknown): string {
  return String(value).replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, def: string | undefined) => (def === undefined ? `<${name}>` : def));
}

/** Statements of a transform processor for one signal, as [context, statement] pairs. */
export function statementsOf(processor: Config | undefined, key: 'trace_statements' | 'log_statements' | 'metric_statements'): [string, string][] {
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
export function deletedKeys(id: string, processor: Config | undefined): Map<string, Set<string>> {
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

export interface LogRecord {
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
export function passesFilters(cfg: Config, pipeline: Pipeline, rec: LogRecord): boolean {
  for (const id of pipeline.processors ?? []) {
    if (typeOf(id) !== 'filter') continue;
    const f = cfg.processors[id] ?? {};
    const conditions: string[] = [...(f.logs?.log_record ?? []), ...(f.log_conditions ?? [])];
    if (conditions.some((c) => evalCondition(c, rec))) return false;
  }
  return true;
}

// ── docker-compose.yml ────────────────────────────────────────────────────────────────────────

export const compose = parseYaml(readFileSync(COMPOSE_FILE, 'utf8'));
export const services: Record<string, Config> = compose.services;

/** [host path, container path] of a service's bind mounts (short or long syntax). */
export function bindMounts(svc: Config): [string, string][] {
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
export function hostPath(svc: Config, containerPath: string): string | undefined {
  for (const [host, target] of bindMounts(svc)) {
    const rel = posix.relative(target, containerPath);
    if (rel === '') return host;
    if (!rel.startsWith('..') && !posix.isAbsolute(rel)) return join(host, rel);
  }
  return undefined;
}

export function envOf(svc: Config): Record<string, string> {
  const env = svc.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((e: string) => [e.split('=')[0], e.split('=').slice(1).join('=')]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}

export function flag(svc: Config, name: string): string | undefined {
  const args: string[] = Array.isArray(svc.command) ? svc.command : String(svc.command ?? '').split(/\s+/);
  const hit = args.find((a) => a.startsWith(`--${name}=`));
  return hit?.slice(name.length + 3);
}

export const portOf = (address: string) => Number(withDefaults(address).split(':').at(-1));

/** The collector config the compose file runs. */
export function composeCollectorConfig(): { file: string; cfg: Config } {
  const svc = services['otel-collector']!;
  const file = hostPath(svc, flag(svc, 'config') ?? '/etc/otelcol-contrib/config.yaml');
  expect(file, 'the collector config is mounted').toBeDefined();
  return { file: file!, cfg: load(file!) };
}

/** The ports each compose service listens on, derived from its own settings. */
export function listeningPorts(name: string): number[] {
  const svc = services[name]!;
  const env = envOf(svc);
  switch (name) {
    case 'demo':
      return [Number(env.DEMO_METRICS_PORT ?? 9464)];
    case 'otel-collector': {
      const { cfg } = composeCollectorConfig();
      const ports = [
        ...Object.values<Config>(cfg.receivers.otlp.protocols).map((p) => portOf(p.endpoint)),
        ...Object.entries<Config>(cfg.exporters)
          .filter(([id]) => typeOf(id) === 'prometheus')
          .map(([, e]) => portOf(e.endpoint)),
        ...(cfg.service.telemetry?.metrics?.readers ?? []).map((r: Config) => Number(r.pull?.exporter?.prometheus?.port)).filter(Boolean),
        ...Object.entries<Config>(cfg.extensions ?? {})
          .filter(([id]) => typeOf(id) === 'health_check')
          .map(([, e]) => portOf(e.endpoint)),
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
export function reachable(target: string): string | undefined {
  const url = /^[a-z]+:\/\//.test(target) ? new URL(target) : new URL(`http://${target}`);
  const service = url.hostname;
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  if (!services[service]) return `${target}: no compose service ${service}`;
  if (!listeningPorts(service).includes(port)) return `${target}: ${service} listens on ${listeningPorts(service).join(', ')}`;
  return undefined;
}
