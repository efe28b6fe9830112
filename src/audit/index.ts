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
import { AuditTrail } from './trail';

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

/**
 * The audit trail the config asks for: OpenTelemetry logs (on by default), the JSON-lines file
 * (`audit_file`) and syslog (`audit_syslog`). A sink that cannot be built is logged and left out;
 * the app starts regardless.
 */
export function createAuditTrail(config: GovernorConfig, opts: { logger: () => Logger; productVersion: string }): AuditTrail {
  let trail: AuditTrail | undefined;
  const callbacks = (name: string) => ({
    onDrop: (n: number) => trail?.sinkDropped(name, n),
    onError: (err: unknown) => trail?.sinkError(name, err),
    onDelivered: (n: number) => trail?.sinkDelivered(name, n),
  });
  const sinks: AuditSink[] = [];
  if (config.audit_otel_logs) sinks.push(new OtelLogSink(opts.logger));
  if (config.audit_file) {
    sinks.push(
      new FileSink({
        path: config.audit_file,
        maxBytes: Math.max(1024, Math.round(config.audit_file_max_mb * MIB)),
        maxFiles: config.audit_file_max_files,
        maxQueue: config.audit_queue_size,
        ...callbacks('file'),
      }),
    );
  }
  if (config.audit_syslog) {
    try {
      sinks.push(new SyslogSink({ url: config.audit_syslog, maxQueue: config.audit_queue_size, ...callbacks('syslog') }));
    } catch (err) {
      diag.warn(`llm-governor: LLM_GOVERNOR_AUDIT_SYSLOG: ${(err as Error)?.message ?? err}; audit events are not sent to syslog`);
    }
  }
  trail = new AuditTrail({
    source: { serviceName: auditServiceName(config), hostname: safeHostname(), productVersion: opts.productVersion },
    sinks,
    maxQueue: config.audit_queue_size,
  });
  return trail;
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

/** `config_rejected` when some values were invalid (or the app refuses to start), then `config_loaded`. */
function recordConfigEvents(trail: AuditTrail, outcome: ConfigOutcome): void {
  const problems = outcome.problems ?? [];
  if (problems.length) {
    trail.record('config_rejected', {
      statusCode: 'invalid_config',
      detail: problems.map((p) => p.source).join(', '),
      message: `configuration rejected as invalid${outcome.refusing ? '; the app refuses to start' : '; the defaults are used instead'}: ${problems.map((p) => `${p.source}: ${p.message}`).join('; ')}`,
    });
  }
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
