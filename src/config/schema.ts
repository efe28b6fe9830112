import { z } from 'zod';
import { PROVIDER } from '../semconv';
import { backtrackingRisk } from './safe-regex';

const bool = z.preprocess(
  (v) => {
    if (typeof v !== 'string') return v;
    const s = v.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(s)) return true;
    if (['false', '0', 'no', 'off', ''].includes(s)) return false;
    return v;
  },
  z.boolean({ error: 'expected true or false' }),
);

/** Plain decimal numbers only: `0x10`, `1e`, `Infinity` stay strings and fail as not a number. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const num = (schema: z.ZodNumber) => z.preprocess((v) => (typeof v === 'string' && DECIMAL.test(v.trim()) ? Number(v) : v), schema);

/** A URL that parses, with one of `protocols` and a port in range (the URL parser checks it). */
function parsesAsUrl(value: string, protocols: readonly string[]): boolean {
  try {
    const u = new URL(value);
    return protocols.includes(u.protocol) && !!u.hostname;
  } catch {
    return false;
  }
}

const providerName = z.enum([PROVIDER.OPENAI, PROVIDER.AZURE, PROVIDER.XAI], {
  error: `expected one of ${PROVIDER.OPENAI}, ${PROVIDER.AZURE}, ${PROVIDER.XAI}`,
});

const WINDOW = /^(day|week|month|\d+(s|m|h|d))$/;
/** A window: a calendar one, or a rolling duration above zero (`0m` would divide by zero). */
const windowSchema = z
  .string()
  .regex(WINDOW, 'expected day, week, month or a rolling duration like 90m, 12h, 30d')
  .refine((w) => !/^0+[smhd]$/.test(w), 'must be a positive duration');
const GLOB = z.string().min(1, 'expected a non-empty name or glob');

const budgetAction = z.union([z.enum(['block', 'cap_tokens', 'alert_only']), z.object({ downgrade: z.string().min(1, 'expected the model to downgrade to') }).strict()], {
  error: 'expected block, cap_tokens, alert_only or { downgrade: <model> }',
});

/** One budget of the config file's `budgets:` list. */
export const budgetSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'expected a name of letters, digits, _ . : -'),
    limit_usd: num(z.number({ error: 'expected an amount in USD' }).positive('expected an amount in USD above 0')),
    window: windowSchema.default('day'),
    timezone: z
      .string()
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, 'expected an IANA time zone such as UTC or Europe/Berlin')
      .default('UTC'),
    thresholds: z.array(z.number().gt(0, 'expected fractions of the limit, above 0').max(1, 'expected fractions of the limit, at most 1')).default([0.8]),
    action: budgetAction.default('block'),
    /** Alert once per window when the spend projected at the window's end crosses this fraction of the limit (see cost/forecast.ts). */
    forecast_alert: z.number().gt(0, 'expected a fraction of the limit, above 0').max(1, 'expected a fraction of the limit, at most 1').optional(),
    per: z.enum(['tenant', 'user', 'feature'], { error: 'expected tenant, user or feature' }).optional(),
    match: z
      .object({
        provider: GLOB.optional(),
        model: GLOB.optional(),
        operation: GLOB.optional(),
        tenant: GLOB.optional(),
        user: GLOB.optional(),
        feature: GLOB.optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type BudgetConfig = z.infer<typeof budgetSchema>;

const priceOverride = z
  .object({
    input: z.number().min(0).optional(),
    output: z.number().min(0).optional(),
    cached_input: z.number().min(0).optional(),
    cache_write: z.number().min(0).optional(),
    reasoning: z.number().min(0).optional(),
    per_image: z.record(z.string(), z.number().min(0)).optional(),
    per_second: z.number().min(0).optional(),
    per_character_million: z.number().min(0).optional(),
    max_output_tokens: z.number().int().positive().optional(),
  })
  .strict();

/** A provider and a model (Azure: the deployment name). Without a model: every model, or the same one. */
const target = z
  .object({
    provider: providerName,
    model: z.string().min(1, 'expected a model or deployment name').optional(),
    /** Backups only: the base URL, instead of the provider's standard environment variable. */
    base_url: z
      .string()
      .refine((v) => parsesAsUrl(v, ['http:', 'https:']), 'expected an http:// or https:// URL that parses')
      .optional(),
  })
  .strict();

const fallbackSchema = z.object({ primary: target, backups: z.array(target).min(1, 'expected at least one backup') }).strict();
export type FallbackConfig = z.infer<typeof fallbackSchema>;
export type TargetConfig = z.infer<typeof target>;

const rateLimitSchema = z
  .object({
    provider: z.string().min(1).optional(),
    model: GLOB.optional(),
    rpm: z.number({ error: 'expected a whole number of requests per minute' }).int().positive().optional(),
    tpm: z.number({ error: 'expected a whole number of tokens per minute' }).int().positive().optional(),
  })
  .strict();

const moderationRuleSchema = z
  .object({
    name: z.string().min(1, 'expected a rule name'),
    pattern: z.string().min(1, 'expected a regular expression'),
    flags: z
      .string()
      .regex(/^[imsu]*$/, 'expected regex flags among i, m, s, u')
      .default('i'),
  })
  .strict()
  .superRefine((rule, ctx) => {
    // Checked with its own flags: a pattern may be valid only without `u`.
    try {
      new RegExp(rule.pattern, rule.flags);
    } catch {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: `expected a valid regular expression (with flags "${rule.flags}")` });
      return;
    }
    const risk = backtrackingRisk(rule.pattern);
    if (risk) ctx.addIssue({ code: 'custom', path: ['pattern'], message: `can backtrack catastrophically (${risk}); rewrite it without a repeated group that itself repeats` });
  });
export type ModerationRuleConfig = z.infer<typeof moderationRuleSchema>;

/**
 * The whole configuration. Environment variables and the optional config file
 * (`LLM_GOVERNOR_CONFIG`, JSON or YAML) both feed this one schema; see `sources.ts`.
 */
export const configSchema = z
  .object({
    /** Turn the whole package off (the preload then patches nothing). */
    disabled: bool.default(false),
    /** Refuse to start the app when the configuration is invalid, instead of using defaults. */
    fail_closed: bool.default(false),
    /** Record prompt and completion text (off by default). */
    capture_content: bool.default(false),
    /** Ask streams for usage (`stream_options.include_usage`) and hide the extra chunk from the app. */
    request_stream_usage: bool.default(true),
    /** `auto`: the preload starts the OpenTelemetry SDK unless the app registered one first. */
    sdk: z.enum(['auto', 'on', 'off'], { error: 'expected auto, on or off' }).default('auto'),
    /** Provider overrides: a host (`llm.internal`) or base-URL prefix, mapped to a provider name. */
    provider_overrides: z.record(z.string(), providerName).default({}),
    /** The service name used in telemetry when OTEL_SERVICE_NAME is unset. */
    service_name: z.string().min(1, 'expected a non-empty name').optional(),
    // ── cost and budgets ──────────────────────────────────────────────────────────────────
    /** One daily budget over all calls (UTC calendar day), blocking when exhausted. */
    daily_budget_usd: num(z.number({ error: 'expected an amount in USD' }).positive('expected an amount in USD above 0')).optional(),
    /** The daily budget's soft threshold in USD (default: 80% of it). */
    alert_threshold_usd: num(z.number({ error: 'expected an amount in USD' }).positive('expected an amount in USD above 0')).optional(),
    budgets: z.array(budgetSchema).default([]),
    /** Price overrides and additions, USD per 1M tokens: keys `provider/model` or `model`. */
    prices: z.record(z.string(), priceOverride).default({}),
    /** Azure deployment name → the model it serves (used to estimate before the response says). */
    azure_deployments: z.record(z.string(), z.string()).default({}),
    /** Redis for budgets shared by many processes; in-memory (this process) when unset. */
    redis_url: z
      .string()
      .refine((v) => parsesAsUrl(v, ['redis:', 'rediss:']), 'expected a redis:// or rediss:// URL that parses (host, port up to 65535)')
      .optional(),
    /**
     * A Redis command without a reply within this time fails (budgets: the store is unavailable;
     * rate limits: this process's own window; cache: the provider answers). Sized for load: a
     * burst of calls on a busy event loop is not an outage.
     */
    redis_command_timeout_ms: num(z.number({ error: 'expected a whole number of milliseconds' }).int().min(50).max(60_000)).default(2_000),
    /** When the budget store is unreachable: `open` lets calls through, `closed` refuses them. */
    store_failure_mode: z.enum(['open', 'closed'], { error: 'expected open or closed' }).default('open'),
    /** How long a reservation lives if its call never settles it (a process that died). */
    reservation_ttl_seconds: num(z.number({ error: 'expected a number of seconds' }).int().min(5).max(86_400)).default(600),
    /** Salt for hashing user identifiers from request fields (`user`, `safety_identifier`). */
    user_hash_salt: z.string().default(''),
    /** Metric label values per attribution dimension before the rest become `other`. */
    label_limit: num(z.number({ error: 'expected a whole number' }).int().min(1).max(1000)).default(20),
    /** Metric label values per model and server label (from the wire) before the rest become `other`. */
    wire_label_limit: num(z.number({ error: 'expected a whole number' }).int().min(1).max(10_000)).default(100),
    // ── resilience ────────────────────────────────────────────────────────────────────────
    /** One circuit breaker per provider, model and server; `false` turns them off. */
    breaker_enabled: bool.default(true),
    /** Failures (within the rolling window) before a breaker opens. */
    breaker_failures: num(z.number({ error: 'expected a whole number of failures' }).int().min(1).max(10_000)).default(5),
    /** Seconds a breaker stays open before one trial call goes through. */
    breaker_reset_seconds: num(z.number({ error: 'expected a number of seconds' }).positive('expected a number of seconds above 0').max(86_400)).default(30),
    /** Error percentage above which a breaker opens, once `breaker_failures` calls were seen. */
    breaker_error_percentage: num(z.number({ error: 'expected a percentage' }).min(1).max(100)).default(50),
    /** The rolling window of the breaker statistics, in seconds. */
    breaker_rolling_window_seconds: num(z.number({ error: 'expected a number of seconds' }).positive().max(86_400)).default(60),
    /**
     * Retries per call, in one loop (ours: the SDK's own loop is then set to 0). Unset: the
     * client's `maxRetries` (the SDK's default is 2). A call's own `maxRetries` option wins.
     */
    max_retries: num(z.number({ error: 'expected a whole number of retries' }).int().min(0).max(20)).optional(),
    /** Per-attempt timeout in seconds; unset: the client's. A call's own `timeout` option wins. */
    timeout_seconds: num(z.number({ error: 'expected a number of seconds' }).positive('expected a number of seconds above 0').max(3_600)).optional(),
    /** Longest backoff between two attempts, in seconds (exponential from 0.5 s, with jitter). */
    retry_max_delay_seconds: num(z.number({ error: 'expected a number of seconds' }).min(0).max(600)).default(8),
    /** The longest `retry-after` we honour, in seconds; a longer one is treated as not retryable now. */
    retry_after_max_seconds: num(z.number({ error: 'expected a number of seconds' }).min(0).max(3_600)).default(60),
    /** Fallback chains: a primary (provider and model or Azure deployment) to ordered backups. */
    fallbacks: z.array(fallbackSchema).default([]),
    /** Requests per minute, per provider and model (client-side). */
    rate_limit_rpm: num(z.number({ error: 'expected a whole number of requests per minute' }).int().positive('expected a whole number above 0')).optional(),
    /** Tokens per minute, per provider and model (input estimate plus requested output). */
    rate_limit_tpm: num(z.number({ error: 'expected a whole number of tokens per minute' }).int().positive('expected a whole number above 0')).optional(),
    /** Per provider/model limits; the first matching entry wins over the defaults above. */
    rate_limits: z.array(rateLimitSchema).default([]),
    /** Longest wait in the rate limiter's queue before failing with `rate_limited`, in seconds. */
    rate_limit_max_wait_seconds: num(z.number({ error: 'expected a number of seconds' }).min(0).max(3_600)).default(30),
    /** Respond from the cache for identical requests (opt-in; per call: header `x-llm-governor-cache: on|off`). */
    cache_enabled: bool.default(false),
    cache_ttl_seconds: num(z.number({ error: 'expected a number of seconds' }).int().positive().max(31_536_000)).default(86_400),
    /** Seconds an entry is kept past its TTL, to answer a call whose every target is down (0: off). */
    cache_serve_stale_seconds: num(z.number({ error: 'expected a number of seconds' }).int().min(0).max(31_536_000)).default(0),
    /** Entries kept by the in-memory cache (least recently used go first). */
    cache_max_entries: num(z.number({ error: 'expected a whole number of entries' }).int().positive().max(10_000_000)).default(1_000),
    /** Where cached responses live: `auto` is Redis when `redis_url` is set, else memory. */
    cache_store: z.enum(['auto', 'memory', 'redis'], { error: 'expected auto, memory or redis' }).default('auto'),
    /** Check user content with the provider's moderation endpoint before sending. */
    moderation_endpoint: bool.default(false),
    moderation_model: z.string().min(1).default('omni-moderation-latest'),
    /** Moderation categories that block (default: any flagged category). */
    moderation_categories: z
      .preprocess(
        (v) =>
          typeof v === 'string'
            ? v
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean)
            : v,
        z.array(z.string().min(1)),
      )
      .optional(),
    /** Regex rules over user content; a match blocks the call, naming the rule. */
    moderation_rules: z.array(moderationRuleSchema).default([]),
    /** When the moderation endpoint cannot be reached: `open` sends the call, `closed` blocks it. */
    moderation_failure_mode: z.enum(['open', 'closed'], { error: 'expected open or closed' }).default('open'),
    // ── live reload ───────────────────────────────────────────────────────────────────────
    /** Reload when the `LLM_GOVERNOR_CONFIG` file changes (watched, debounced). */
    config_watch: bool.default(true),
    /** Follow the fleet config pushed through Redis (`llm-governor config push`), when `redis_url` is set. */
    fleet_config: bool.default(true),
    /** How often a process checks the fleet config in Redis, besides its pub/sub notice, in seconds. */
    fleet_config_check_seconds: num(z.number({ error: 'expected a number of seconds' }).int().min(1).max(3_600)).default(10),
    // ── audit trail ───────────────────────────────────────────────────────────────────────
    /** Send audit events as OpenTelemetry log records (event name `llm_governor.audit`). */
    audit_otel_logs: bool.default(true),
    /** A JSON-lines file of audit events (one OCSF event per line, appended, rotated by size). */
    audit_file: z.string().trim().min(1, 'expected a file path').optional(),
    /** Rotate the audit file before it grows past this many MiB. */
    audit_file_max_mb: num(z.number({ error: 'expected a size in MiB' }).positive('expected a size in MiB above 0').max(1_048_576)).default(64),
    /** Rotated audit files kept (`<file>.1` … `<file>.N`); 0 keeps none. */
    audit_file_max_files: num(z.number({ error: 'expected a whole number of files' }).int().min(0).max(1_000)).default(5),
    /** RFC 5424 syslog over TCP or UDP: `tcp://host:port` or `udp://host:port`. */
    audit_syslog: z
      .string()
      .regex(/^(tcp|udp):\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?\/?$/, 'expected tcp://host:port or udp://host:port')
      .refine((v) => parsesAsUrl(v, ['tcp:', 'udp:']), 'expected a port up to 65535')
      .optional(),
    /** Audit events waiting at most, per queue, before new ones are dropped (and counted). */
    audit_queue_size: num(z.number({ error: 'expected a whole number of events' }).int().min(100, 'expected at least 100 events').max(10_000_000, 'expected at most 10 000 000 events')).default(
      100_000,
    ),
    /** Shutdown: how long to wait for exporters to flush on exit, in milliseconds. */
    flush_timeout_ms: num(z.number({ error: 'expected a number of milliseconds' }).int().min(0).max(60_000)).default(2_000),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.alert_threshold_usd !== undefined && c.daily_budget_usd !== undefined && c.alert_threshold_usd > c.daily_budget_usd) {
      ctx.addIssue({ code: 'custom', path: ['alert_threshold_usd'], message: `expected at most the daily budget ($${c.daily_budget_usd})` });
    }
  });

export type GovernorConfig = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
