import { hostname } from 'node:os';
import { diag } from '@opentelemetry/api';
import type { Logger } from '@opentelemetry/api-logs';
import type { ConfigProblem } from '../config/load';
import type { GovernorConfig } from '../config/schema';
import { INSTRUMENTATION_NAME } from '../semconv';
import { FileSink } from './file-sink';
import { globalLogger, OtelLogSink } from './otel-sink';
import type { AuditSink } from './sink';
import { SyslogSink } from './syslog-sink';
import { AuditTrail, type AuditEventFacts } from './trail';

export { AuditTrail, type AuditEventFacts } from './trail';
export type { AuditKind } from './ocsf';

const MIB = 1024 * 1024;

/** The service name audit events name as their source: the resource's, as the SDK would set it. */
export function auditServiceName(config: Pick<GovernorConfig, 'service_name'>, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.OTEL_SERVICE_NAME?.trim();
  if (fromEnv) return fromEnv;
  const fromResource = /(?:^|,)\s*service\.name\s*=\s*([^,]+)/.exec(env.OTEL_RESOURCE_ATTRIBUTES ?? '')?.[1]?.trim();
  if (fromResource) return decodeURIComponentSafe(fromResource);
  return config.service_name ?? 'unknown_service:node';
}

type SinkSettings = Pick<GovernorConfig, 'audit_otel_logs' | 'audit_file' | 'audit_file_max_mb' | 'audit_file_max_files' | 'audit_syslog' | 'audit_queue_size'>;

/** What each sink was built from: a reload keeps a sink whose settings stay (its file, its socket). */
const SINK_SPEC = new WeakMap<AuditSink, string>();

/**
 * The sinks the config asks for: OpenTelemetry logs (on by default), the JSON-lines file
 * (`audit_file`) and syslog (`audit_syslog`); one of `keep` is reused where its settings are the
 * same. A sink that cannot be built is logged and left out; the app starts regardless.
 */
function buildSinks(config: SinkSettings, trail: () => AuditTrail | undefined, logger: () => Logger, keep: readonly AuditSink[] = []): AuditSink[] {
  const callbacks = (name: string) => ({
    onDrop: (n: number) => trail()?.sinkDropped(name, n),
    onError: (err: unknown) => trail()?.sinkError(name, err),
    onDelivered: (n: number) => trail()?.sinkDelivered(name, n),
  });
  const sinks: AuditSink[] = [];
  const add = (spec: string, build: () => AuditSink) => {
    const sink = keep.find((s) => SINK_SPEC.get(s) === spec) ?? build();
    SINK_SPEC.set(sink, spec);
    sinks.push(sink);
  };
  if (config.audit_otel_logs) add('otel', () => new OtelLogSink(logger));
  const file = config.audit_file;
  if (file) {
    const opts = { path: file, maxBytes: Math.max(1024, Math.round(config.audit_file_max_mb * MIB)), maxFiles: config.audit_file_max_files, maxQueue: config.audit_queue_size };
    add(`file ${JSON.stringify(opts)}`, () => new FileSink({ ...opts, ...callbacks('file') }));
  }
  const syslog = config.audit_syslog;
  if (syslog) {
    try {
      add(`syslog ${syslog}`, () => new SyslogSink({ url: syslog, maxQueue: config.audit_queue_size, ...callbacks('syslog') }));
    } catch (err) {
      diag.warn(`llm-governor: LLM_GOVERNOR_AUDIT_SYSLOG: ${(err as Error)?.message ?? err}; audit events are not sent to syslog`);
    }
  }
  return sinks;
}

/** The audit trail the config asks for (see `buildSinks`). */
export function createAuditTrail(config: GovernorConfig, opts: { logger: () => Logger; productVersion: string }): AuditTrail {
  const trail: AuditTrail = new AuditTrail({
    source: { serviceName: auditServiceName(config), hostname: safeHostname(), productVersion: opts.productVersion },
    sinks: buildSinks(config, () => trail, opts.logger),
    maxQueue: config.audit_queue_size,
  });
  LOGGERS.set(trail, opts.logger);
  return trail;
}

const LOGGERS = new WeakMap<AuditTrail, () => Logger>();

/** A reload: the trail's sinks as the new config asks, keeping those whose settings stay. */
export function reconfigureAuditSinks(trail: AuditTrail, config: SinkSettings): Promise<void> {
  const logger = LOGGERS.get(trail);
  if (!logger) return Promise.resolve();
  return trail.replaceSinks(buildSinks(config, () => trail, logger, trail.sinks));
}

let shared: AuditTrail | undefined;

/** How the configuration came about, for the `config_loaded` / `config_rejected` events. */
export interface ConfigOutcome {
  config: GovernorConfig;
  problems?: readonly ConfigProblem[];
  /** Setting → where it came from (an environment variable, or the config file). */
  origins?: Readonly<Record<string, string>>;
  /** The app refuses to start because of `problems` (`fail_closed`). */
  refusing?: boolean;
}

/**
 * The process's one audit trail (the preload, `wrap()` and a hand-registered instrumentation
 * share it, so one file has one writer), created on first use with the config events recorded.
 * Events still queued when the process exits are flushed synchronously; the preload also
 * flushes on SIGTERM / SIGINT (see `exit-hooks.ts`).
 */
export function processAuditTrail(outcome: ConfigOutcome, productVersion: string): AuditTrail {
  if (shared) return shared;
  const trail = createAuditTrail(outcome.config, { logger: globalLogger(INSTRUMENTATION_NAME, productVersion), productVersion });
  shared = trail;
  recordConfigEvents(trail, outcome);
  process.on('exit', () => trail.flushSync());
  return trail;
}

/** A `config_rejected` event: each invalid value by its full path and what is expected, and what follows. */
export function configRejectedFacts(problems: readonly ConfigProblem[], consequence: string): AuditEventFacts {
  return {
    statusCode: 'invalid_config',
    detail: problems.map((p) => p.source).join(', '),
    message: `configuration rejected as invalid; ${consequence}: ${problems.map((p) => `${p.source}: ${p.message}`).join('; ')}`,
  };
}

/** `config_rejected` when some values were invalid (or the app refuses to start), then `config_loaded`. */
function recordConfigEvents(trail: AuditTrail, outcome: ConfigOutcome): void {
  const problems = outcome.problems ?? [];
  if (problems.length) trail.record('config_rejected', configRejectedFacts(problems, outcome.refusing ? 'the app refuses to start' : 'the defaults are used instead'));
  if (outcome.refusing) return;
  const settings = Object.keys(outcome.origins ?? {}).sort();
  trail.record('config_loaded', {
    detail: settings.length ? `settings: ${settings.join(', ')}` : 'all defaults',
    message: `configuration loaded${problems.length ? ` (${problems.length} invalid value${problems.length > 1 ? 's' : ''} replaced by defaults)` : ''}`,
  });
}

function safeHostname(): string | undefined {
  try {
    return hostname() || undefined;
  } catch {
    return undefined;
  }
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
