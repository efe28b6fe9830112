// The configurations the benchmark runs side by side, each in its own child process.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Variables a configuration must not inherit from the shell that runs the benchmark. */
const INHERITED_OUT = /^(OTEL_|LLM_GOVERNOR_|OPENAI_|XAI_|AZURE_|REDIS_CACHE_URL$|NODE_OPTIONS$|NODE_DEBUG$)/;

export function cleanEnv() {
  const out = {};
  for (const [k, v] of Object.entries(process.env)) if (!INHERITED_OUT.test(k) && v !== undefined) out[k] = v;
  return out;
}

/**
 * Every configuration gets the same telemetry environment, whether or not it uses it:
 * traces through the SDK's BatchSpanProcessor to the OTLP/HTTP (protobuf) exporter, posting to
 * the harness's local receiver; metrics to a Prometheus exporter (its own port, never scraped);
 * no log exporter.
 */
function telemetryEnv(id, ctx) {
  return {
    OTEL_SERVICE_NAME: 'llm-governor-bench',
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${ctx.otlpUrl}/${id}/v1/traces`,
    OTEL_LOGS_EXPORTER: 'none',
    OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
    OTEL_EXPORTER_PROMETHEUS_PORT: String(ctx.ports[id]),
  };
}

// $5,000 a day: far above what the run spends (about $5 per 100k calls), and below $9,007.19,
// above which a budget's limit in picodollars is no longer a safe integer: the stores then
// reject every reservation and the budget silently does nothing (reported; see BENCHMARKS.md).
const BUDGET = { LLM_GOVERNOR_DAILY_BUDGET_USD: '5000' };
/** A tokens-per-minute limit far above what one process sends: the limiter admits every call. */
const TPM = { LLM_GOVERNOR_RATE_LIMIT_TPM: '100000000000' };

/** The config file for "every guard": breaker (default on), retry, rate limit, moderation rules, fallback. */
function guardsConfigFile(ctx, { cache }) {
  const file = join(ctx.tmp, `guards${cache ? '-cache' : ''}.json`);
  const config = {
    // The breaker is on by default; named here so that the file says what runs.
    breaker_enabled: true,
    breaker_failures: 5,
    breaker_reset_seconds: 30,
    // Our retry loop runs in any case (with the client's maxRetries, 2 by default); named here.
    max_retries: 2,
    // Far above what one process can send: the limiter admits every call without waiting.
    rate_limit_rpm: 100_000_000,
    rate_limit_tpm: 100_000_000_000,
    rate_limit_max_wait_seconds: 10,
    moderation_rules: [
      { name: 'prompt_injection', pattern: '\\b(ignore|disregard|forget) (all|any) (previous|prior|earlier) (instructions|rules)\\b' },
      { name: 'card_number', pattern: '\\b(?:\\d[ -]?){13,16}\\b', flags: '' },
    ],
    fallbacks: [
      {
        primary: { provider: 'openai', model: 'gpt-4o-mini' },
        backups: [{ provider: 'x_ai', model: 'grok-3-mini', base_url: ctx.xaiBaseURL }],
      },
    ],
    cache_enabled: cache,
  };
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/**
 * ctx: { repoRoot, tmp, otlpUrl, ports: {id: port}, redisUrl, xaiBaseURL, peerAvailable }
 * Each: id, label (short, for tables), description, execArgv (besides --expose-gc), env; optionally
 * chatOnly (measured for the non-streaming figure only), baseline (the id of its bare run, default
 * `bare`), comparedWith (the configuration its added CPU must not exceed).
 */
export function buildConfigs(ctx) {
  const register = join(ctx.repoRoot, 'dist', 'register.js');
  const peerSetup = join(ctx.repoRoot, 'scripts', 'bench', 'peer-setup.cjs');
  const lg = (id, extra) => ({ ...telemetryEnv(id, ctx), ...extra });
  const traceOnly = { LLM_GOVERNOR_BREAKER_ENABLED: 'false', LLM_GOVERNOR_AUDIT_OTEL_LOGS: 'false' };
  // Every guard: the guards file, a budget, the audit trail to a file of its own, an xAI key for
  // the fallback chain; in Redis or in memory.
  const guarded = (id, { redis = false, cache = false, extra = {} }) =>
    lg(id, {
      ...BUDGET,
      ...(redis ? { LLM_GOVERNOR_REDIS_URL: ctx.redisUrl } : {}),
      LLM_GOVERNOR_CONFIG: guardsConfigFile(ctx, { cache }),
      LLM_GOVERNOR_AUDIT_OTEL_LOGS: 'false',
      LLM_GOVERNOR_AUDIT_FILE: join(ctx.tmp, `audit-${id}.jsonl`),
      XAI_API_KEY: 'xai-bench-0000000000000000',
      ...extra,
    });
  const configs = [
    {
      id: 'bare',
      label: 'bare openai SDK',
      description: 'The openai SDK alone: no preload, no OpenTelemetry SDK.',
      execArgv: [],
      env: telemetryEnv('bare', ctx),
    },
  ];
  configs.push({
    id: 'otel',
    label: 'NodeSDK alone (no instrumentation)',
    description: 'The NodeSDK the peer runs in, with no instrumentation: what the OpenTelemetry SDK costs by itself (its AsyncLocalStorage context manager). Not a target; for reading the others.',
    execArgv: ['--require', peerSetup],
    env: { ...telemetryEnv('otel', ctx), BENCH_PEER_INSTRUMENT: '0' },
    reference: true,
  });
  if (ctx.peerAvailable) {
    configs.push({
      id: 'peer',
      label: 'instrumentation-openai',
      description: "@opentelemetry/instrumentation-openai in a NodeSDK set up like the preload's (same trace and metric exporters).",
      execArgv: ['--require', peerSetup],
      env: telemetryEnv('peer', ctx),
      peer: true,
    });
  }
  configs.push(
    {
      id: 'tm',
      label: 'llm-governor: tracing + metering',
      description: 'The preload with its own NodeSDK: spans, GenAI and cost metrics; breaker off, no audit sink, no budgets.',
      execArgv: ['--require', register],
      env: lg('tm', traceOnly),
    },
    {
      id: 'mem',
      label: '+ budgets (memory)',
      description: 'Tracing + metering, plus a daily budget (LLM_GOVERNOR_DAILY_BUDGET_USD=5000) in the in-memory store.',
      execArgv: ['--require', register],
      env: lg('mem', { ...traceOnly, ...BUDGET }),
    },
    {
      id: 'allmem',
      label: '+ every guard (memory)',
      description:
        'Every guard as below, with no Redis URL: budgets and the rate limit (RPM and TPM) in memory, breaker, retry, moderation rules, the fallback chain, the audit trail to a JSON-lines file; cache off.',
      execArgv: ['--require', register],
      env: guarded('allmem', {}),
      guards: true,
    },
    {
      id: 'redis',
      label: '+ budgets (Redis)',
      description: 'The same budget in Redis (LLM_GOVERNOR_REDIS_URL, a local redis-server started by the harness).',
      execArgv: ['--require', register],
      env: lg('redis', { ...traceOnly, ...BUDGET, LLM_GOVERNOR_REDIS_URL: ctx.redisUrl }),
    },
    {
      id: 'all',
      label: '+ every guard (Redis)',
      description:
        'Redis budgets, breaker, retry (2 retries, as the SDK), rate limit in Redis (RPM and TPM, never waits), moderation rules (2 regexes), a fallback chain (openai → x_ai, never taken), the audit trail to a JSON-lines file; cache off.',
      execArgv: ['--require', register],
      env: guarded('all', { redis: true }),
      guards: true,
    },
    {
      id: 'cache',
      label: 'every guard + cache (hits)',
      description: 'As "every guard", with the response cache on (in Redis): after the first call every call is a cache hit and nothing is sent. Measured separately; not a target.',
      execArgv: ['--require', register],
      env: guarded('cache', { redis: true, cache: true, extra: { BENCH_SAME_QUESTION: '1' } }),
      guards: true,
      cacheHits: true,
      chatOnly: true,
    },
  );
  return [...configs, ...configs.flatMap((c) => (AI_SDK_ROWS[c.id] ? [aiSdkRow(c, AI_SDK_ROWS[c.id], ctx)] : []))];
}

/**
 * The same configurations with another app: the Vercel AI SDK (`ai` + `@ai-sdk/openai`,
 * `generateText` on the chat model), which never goes through the openai SDK; under the preload
 * its calls reach the wire entry (the process's fetch). Each row is the configuration of the
 * same id with BENCH_CLIENT=ai-sdk, compared with the bare AI SDK (as the openai rows are with
 * the bare openai SDK), and its added CPU with the openai row's: the goal is no more than the SDK
 * adapter's. Non-streaming calls only. One more entry here is one more row.
 */
const AI_SDK_ROWS = {
  bare: {
    label: 'bare AI SDK (ai + @ai-sdk/openai)',
    description: "The AI SDK alone (generateText, @ai-sdk/openai's chat model): no preload, no OpenTelemetry SDK. The reference of the AI SDK rows.",
  },
  tm: { label: 'AI SDK, wire entry: tracing + metering', description: "Tracing + metering as above, with the AI SDK's generateText instead of the openai SDK: every call governed by the wire entry." },
};
const aiSdkId = (id) => `aisdk-${id}`;

function aiSdkRow(c, { label, description }, ctx) {
  const id = aiSdkId(c.id);
  const env = { ...c.env, ...telemetryEnv(id, ctx), BENCH_CLIENT: 'ai-sdk' };
  if (env.LLM_GOVERNOR_AUDIT_FILE) env.LLM_GOVERNOR_AUDIT_FILE = join(ctx.tmp, `audit-${id}.jsonl`);
  const bare = c.id === 'bare';
  return { id, label, description, execArgv: c.execArgv, env, client: 'ai-sdk', chatOnly: true, baseline: aiSdkId('bare'), ...(bare ? {} : { comparedWith: c.id }) };
}

export const CONFIG_IDS = ['bare', 'otel', 'peer', 'tm', 'mem', 'allmem', 'redis', 'all', 'cache', ...Object.keys(AI_SDK_ROWS).map(aiSdkId)];

/** Names `--only=` accepts for a set of rows: each with the rows it is compared with (their references join by themselves). */
export const CONFIG_GROUPS = { 'ai-sdk': ['tm', ...Object.keys(AI_SDK_ROWS).map(aiSdkId)] };

/** The configuration whose figures `id`'s added figures are differences from: its bare client. */
export const baselineOf = (c) => c.baseline ?? 'bare';

/**
 * The start-up processes (`node [--require …] -e "require('openai')"`, lib/startup.mjs): the bare
 * SDK, the peer in its NodeSDK, and the preload with its default configuration (no llm-governor
 * variable at all) and with budgets + a TPM limit (in memory). The last is also the first-call app.
 * Each exports traces to the harness's receiver like the configurations above.
 */
export function startupVariants(ctx) {
  const register = join(ctx.repoRoot, 'dist', 'register.js');
  const env = (id, extra) => ({ ...telemetryEnv(`startup-${id}`, ctx), ...extra });
  const list = [{ id: 'bare', label: 'bare openai SDK', execArgv: [], env: env('bare') }];
  if (ctx.peerAvailable) list.push({ id: 'peer', label: 'instrumentation-openai (NodeSDK)', execArgv: ['--require', join(ctx.repoRoot, 'scripts', 'bench', 'peer-setup.cjs')], env: env('peer') });
  list.push(
    { id: 'default', label: 'llm-governor, default config', execArgv: ['--require', register], env: env('default') },
    { id: 'budgets', label: 'llm-governor, budgets + a TPM limit', execArgv: ['--require', register], env: env('budgets', { ...BUDGET, ...TPM }) },
  );
  return list;
}

export const STARTUP_IDS = ['bare', 'peer', 'default', 'budgets'].map((id) => `startup-${id}`);
