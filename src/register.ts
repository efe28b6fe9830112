/**
 * The preload: `node --require llm-governor/register app.js` (or `--import` for ESM apps).
 * Loads the config, starts the OpenTelemetry SDK when the app has none, and instruments the
 * `openai` SDK when the app loads it. Never throws into the app, unless the config asks to
 * fail closed on an invalid configuration.
 */
import { processAuditTrail, reconfigureAuditSinks } from './audit';
import { ConfigError, loadConfig } from './config/load';
import { onProcessEnd } from './exit-hooks';
import { PriceTable } from './cost/prices';
import { warmBudgets } from './cost/budgets';
import { countsTokensAhead, warmTokenizer } from './cost/tokens';
import { installDiagLogger } from './diag-logger';
import { redact, rememberSecret, rememberUrlSecrets } from './redaction';
import { installFetchEntry } from './instrumentation/fetch/entry';
import { LlmGovernorInstrumentation } from './instrumentation/instrumentation';
import { LiveConfig } from './live-config/live-config';
import { getState, setState } from './runtime-state';
import { forceFlushTelemetry, hasGlobalTracerProvider, shutdownSdk, startSdk } from './sdk';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const PACKAGE_VERSION: string = require('../package.json').version;

/**
 * `LLM_GOVERNOR_DISABLED` set to anything but false / 0 / no / off: the preload does nothing at
 * all, not even read the config (whose problems it would otherwise report).
 */
function disabledByEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.LLM_GOVERNOR_DISABLED?.trim().toLowerCase();
  return !!v && !['false', '0', 'no', 'off'].includes(v);
}

function register(): void {
  if (getState()) return; // loaded twice (--require and --import): once is enough
  if (disabledByEnv()) return;
  const loaded = loadConfig();
  setState({ loaded });
  const { config } = loaded;
  rememberUrlSecrets(config.redis_url);
  rememberSecret(config.user_hash_salt);
  const refusing = loaded.problems.length > 0 && config.fail_closed;
  // The audit trail starts first: a configuration rejected as invalid is itself an audit event.
  const audit = config.disabled ? undefined : processAuditTrail({ ...loaded, refusing }, PACKAGE_VERSION);
  if (loaded.problems.length) {
    const err = new ConfigError(loaded.problems);
    if (refusing) {
      audit?.flushSync();
      throw err;
    }
    process.stderr.write(`${redact(err.message)}\n  (each of these values is left out, everything else stays in force; set LLM_GOVERNOR_FAIL_CLOSED=true to refuse to start instead)\n`);
  }
  for (const w of loaded.warnings ?? []) process.stderr.write(`llm-governor: ${redact(w)}\n`);
  if (!audit) return; // disabled
  installDiagLogger();

  const instrumentation = new LlmGovernorInstrumentation({ governor: config, audit });
  const startOwnSdk = config.sdk === 'on' || (config.sdk === 'auto' && !hasGlobalTracerProvider());
  // A lost export is always counted; it is warned about only where OTLP logs were asked for (not
  // the SDK's default of a Collector on localhost that a first try does not have).
  const logsAskedFor = ['OTEL_LOGS_EXPORTER', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT'].some((k) => !!process.env[k]?.trim());
  const auditExports = { delivered: (n: number) => audit.sinkDelivered('otel', n), failed: (n: number, err: unknown) => audit.sinkLost('otel', n, err, logsAskedFor) };
  const sdk = startOwnSdk ? startSdk({ instrumentations: [instrumentation], serviceName: config.service_name, auditExports }) : undefined;
  setState({ loaded, instrumentation, sdk });
  // Every other client (the AI SDK, a bundled openai, a hand-written fetch) reaches the provider
  // through the process's fetch: the wire entry governs those calls with the same pipeline.
  installFetchEntry({ getRuntime: instrumentation.runtimeGetter, overrides: () => instrumentation.governorConfig.provider_overrides });
  // Reloads (SIGHUP, the file, the fleet config, reload()) put a new config in force for the
  // calls that start after them.
  const live = new LiveConfig({
    loaded,
    audit,
    apply: (next) => {
      instrumentation.applyConfig(next);
      rememberSecret(next.user_hash_salt);
      void reconfigureAuditSinks(audit, next);
      if (countsTokensAhead(next)) setImmediate(() => warmTokenizer()).unref();
    },
    onInfo: (info) => instrumentation.setConfigInfo(info),
  });
  instrumentation.setConfigInfo(live.info);
  setState({ loaded, instrumentation, sdk, live });
  live.start();
  // Load the price table now, at start-up, so that no call pays for it later; the tokenizer too,
  // where calls count tokens before they are sent (it is the largest module we have: ~50 MiB).
  setImmediate(() => {
    try {
      PriceTable.bundled();
      if (countsTokensAhead(config)) warmTokenizer();
      warmBudgets(config);
    } catch {
      /* estimates fall back to a character count */
    }
  }).unref();

  onProcessEnd(
    async () => {
      await live.stop();
      await instrumentation.shutdown(); // ends open calls and flushes the audit trail
      await shutdownSdk(sdk, config.flush_timeout_ms);
    },
    (atExit) => {
      // The real exit: calls still open end as incomplete, and their audit events reach the file.
      // (A signal is no exit yet: the app may drain, and its calls go on.)
      if (atExit) instrumentation.endOpenCalls();
      audit.flushSync();
    },
    // A drain: what was recorded so far goes out, nothing is closed.
    async () => {
      await Promise.allSettled([audit.flush(), forceFlushTelemetry()]);
    },
  );
}

try {
  register();
} catch (err) {
  if (err instanceof ConfigError) throw err;
  // Never break the app's start because telemetry could not start.
  process.stderr.write(`llm-governor: not started: ${(err as Error)?.stack ?? err}\n`);
}
