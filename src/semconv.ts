/**
 * Every telemetry name this package emits, in one place.
 *
 * GenAI names follow the OpenTelemetry GenAI semantic conventions v1.41. They are still moving:
 * when they change, this is the only module to edit. Names of our own live under `llm_governor.*`.
 * Prometheus sees these through @opentelemetry/exporter-prometheus, which turns dots into `_`,
 * appends `_total` to counters and adds no unit suffix.
 */
export const SEMCONV_VERSION = '1.41.0';

export const ATTR = {
  OPERATION_NAME: 'gen_ai.operation.name',
  PROVIDER_NAME: 'gen_ai.provider.name',
  REQUEST_MODEL: 'gen_ai.request.model',
  REQUEST_MAX_TOKENS: 'gen_ai.request.max_tokens',
  REQUEST_TEMPERATURE: 'gen_ai.request.temperature',
  REQUEST_TOP_P: 'gen_ai.request.top_p',
  REQUEST_FREQUENCY_PENALTY: 'gen_ai.request.frequency_penalty',
  REQUEST_PRESENCE_PENALTY: 'gen_ai.request.presence_penalty',
  REQUEST_SEED: 'gen_ai.request.seed',
  REQUEST_STOP_SEQUENCES: 'gen_ai.request.stop_sequences',
  REQUEST_CHOICE_COUNT: 'gen_ai.request.choice.count',
  REQUEST_ENCODING_FORMATS: 'gen_ai.request.encoding_formats',
  OUTPUT_TYPE: 'gen_ai.output.type',
  RESPONSE_MODEL: 'gen_ai.response.model',
  RESPONSE_ID: 'gen_ai.response.id',
  RESPONSE_FINISH_REASONS: 'gen_ai.response.finish_reasons',
  USAGE_INPUT_TOKENS: 'gen_ai.usage.input_tokens',
  USAGE_OUTPUT_TOKENS: 'gen_ai.usage.output_tokens',
  USAGE_CACHE_READ_INPUT_TOKENS: 'gen_ai.usage.cache_read.input_tokens',
  USAGE_CACHE_CREATION_INPUT_TOKENS: 'gen_ai.usage.cache_creation.input_tokens',
  USAGE_REASONING_OUTPUT_TOKENS: 'gen_ai.usage.reasoning.output_tokens',
  REQUEST_STREAM: 'gen_ai.request.stream',
  RESPONSE_TIME_TO_FIRST_CHUNK: 'gen_ai.response.time_to_first_chunk',
  TOKEN_TYPE: 'gen_ai.token.type',
  CONVERSATION_ID: 'gen_ai.conversation.id',
  INPUT_MESSAGES: 'gen_ai.input.messages',
  OUTPUT_MESSAGES: 'gen_ai.output.messages',
  SYSTEM_INSTRUCTIONS: 'gen_ai.system_instructions',
  SERVER_ADDRESS: 'server.address',
  SERVER_PORT: 'server.port',
  ERROR_TYPE: 'error.type',
  HTTP_STATUS_CODE: 'http.response.status_code',
  // OpenAI-specific attributes, set only when the provider is OpenAI.
  OPENAI_REQUEST_SERVICE_TIER: 'openai.request.service_tier',
  OPENAI_RESPONSE_SERVICE_TIER: 'openai.response.service_tier',
  OPENAI_RESPONSE_SYSTEM_FINGERPRINT: 'openai.response.system_fingerprint',
  OPENAI_API_TYPE: 'openai.api.type',
  // Our own.
  USAGE_ESTIMATED: 'llm_governor.usage.estimated',
  /** Usage the provider reported that cannot be true (`negative`, `not_integer`, `above_context`). */
  USAGE_SUSPICIOUS: 'llm_governor.usage.suspicious',
  /** @deprecated since 0.2: `gen_ai.usage.reasoning.output_tokens`; still written for one release. */
  USAGE_REASONING_TOKENS: 'llm_governor.usage.reasoning_tokens',
  STREAM: 'llm_governor.stream',
  STREAM_OUTCOME: 'llm_governor.stream.outcome',
  STREAM_CHUNKS: 'llm_governor.stream.chunks',
  USAGE_REQUESTED_BY_GOVERNOR: 'llm_governor.usage.requested',
  SDK_VERSION: 'llm_governor.openai_sdk.version',
  COST_USD: 'llm_governor.cost.usd',
  COST_ESTIMATED: 'llm_governor.cost.estimated',
  PRICE_MODEL: 'llm_governor.price.model',
  PRICE_VERSION: 'llm_governor.price.version',
  TENANT: 'llm_governor.tenant',
  USER: 'llm_governor.user',
  FEATURE: 'llm_governor.feature',
  BUDGET: 'llm_governor.budget',
  BUDGET_KEY: 'llm_governor.budget.key',
  BUDGET_ACTIONS: 'llm_governor.budget.actions',
  BUDGET_RESERVED_USD: 'llm_governor.budget.reserved_usd',
  BUDGET_STORE_UNAVAILABLE: 'llm_governor.budget.store_unavailable',
  SERVED_MODEL: 'llm_governor.served.model',
  SERVED_PROVIDER: 'llm_governor.served.provider',
  FALLBACK_FROM: 'llm_governor.fallback.from',
  RETRIES: 'llm_governor.retries',
  CACHE_HIT: 'llm_governor.cache.hit',
  CACHE_SAVED_USD: 'llm_governor.cache.saved_usd',
  /** The answer came from the cache past its TTL, every target being down (`cache_serve_stale_seconds`). */
  CACHE_STALE: 'llm_governor.cache.stale',
  RATE_LIMIT_WAIT_MS: 'llm_governor.rate_limit.wait_ms',
  MODERATION_FLAGGED: 'llm_governor.moderation.flagged',
  /** Label of `llm_governor.breaker.transitions` and `llm_governor.fallbacks`. */
  FROM: 'from',
  TO: 'to',
  /** Label of `llm_governor.ratelimit.remaining`: `requests` or `tokens`. */
  KIND: 'kind',
  /** Label of `llm_governor.cache.requests`: `hit`, `miss` or `stale`. */
  RESULT: 'result',
  /** Label of `llm_governor.moderation.flagged`: the category or rule. */
  CATEGORY: 'category',
  REJECT_REASON: 'reason',
  THRESHOLD: 'threshold',
  /** On `llm_governor.budget.threshold_crossings`: `forecast` for a `forecast_alert` crossing (absent for a threshold). */
  CROSSING: 'crossing',
} as const;

/** Value of the `crossing` label for a forecast crossing. */
export const FORECAST_CROSSING = 'forecast';

/** `gen_ai.provider.name` values. */
export const PROVIDER = {
  OPENAI: 'openai',
  AZURE: 'azure.ai.openai',
  XAI: 'x_ai',
} as const;
export type ProviderName = (typeof PROVIDER)[keyof typeof PROVIDER];

/** `gen_ai.operation.name` values: the conventions' well-known ones, then custom ones for the rest. */
export const OPERATION = {
  CHAT: 'chat',
  TEXT_COMPLETION: 'text_completion',
  EMBEDDINGS: 'embeddings',
  IMAGE_GENERATION: 'image_generation',
  IMAGE_EDIT: 'image_edit',
  AUDIO_TRANSCRIPTION: 'audio_transcription',
  AUDIO_TRANSLATION: 'audio_translation',
  SPEECH: 'text_to_speech',
  MODERATION: 'moderation',
} as const;
export type OperationName = (typeof OPERATION)[keyof typeof OPERATION];

export const TOKEN_TYPE = { INPUT: 'input', OUTPUT: 'output' } as const;

export const EVENT = {
  RETRY_ATTEMPT: 'llm_governor.attempt',
  FALLBACK: 'llm_governor.fallback',
  CONTENT: 'gen_ai.client.inference.operation.details',
} as const;

export const EVENT_ATTR = {
  ATTEMPT: 'llm_governor.attempt.number',
  ATTEMPT_STATUS: 'llm_governor.attempt.status',
  ATTEMPT_WAIT_MS: 'llm_governor.attempt.wait_ms',
  ATTEMPT_ERROR: 'llm_governor.attempt.error',
} as const;

export const METRIC = {
  OPERATION_DURATION: 'gen_ai.client.operation.duration',
  TOKEN_USAGE: 'gen_ai.client.token.usage',
  TIME_TO_FIRST_CHUNK: 'gen_ai.client.operation.time_to_first_chunk',
  TIME_PER_OUTPUT_CHUNK: 'gen_ai.client.operation.time_per_output_chunk',
} as const;

/** Our own instruments (Prometheus names: dots → `_`, counters + `_total`, no unit suffix). */
export const GOVERNOR_METRIC = {
  COST: 'llm_governor.cost',
  PRICING_UNKNOWN: 'llm_governor.pricing.unknown',
  LABELS_FOLDED: 'llm_governor.labels.folded',
  USAGE_SUSPICIOUS: 'llm_governor.usage.suspicious',
  BUDGET_LIMIT: 'llm_governor.budget.limit',
  BUDGET_SPENT: 'llm_governor.budget.spent',
  BUDGET_RESERVED: 'llm_governor.budget.reserved',
  BUDGET_UTILIZATION: 'llm_governor.budget.utilization',
  BUDGET_WINDOW_REMAINING: 'llm_governor.budget.window_remaining',
  /** Spend projected at the end of the window (see cost/forecast.ts). */
  BUDGET_FORECAST: 'llm_governor.budget.forecast_usd',
  /** Seconds until the limit is reached at the current rate; absent when not within the window. */
  BUDGET_EXHAUSTION: 'llm_governor.budget.exhaustion_seconds',
  BUDGET_THRESHOLD_CROSSINGS: 'llm_governor.budget.threshold_crossings',
  BUDGET_EXCEEDED_ALLOWED: 'llm_governor.budget.exceeded_allowed',
  BUDGET_STORE_ERRORS: 'llm_governor.budget.store.errors',
  BUDGET_STORE_AVAILABLE: 'llm_governor.budget.store.available',
  REQUESTS_REJECTED: 'llm_governor.requests.rejected',
  UNGOVERNED_REQUESTS: 'llm_governor.ungoverned_requests',
  BREAKER_STATE: 'llm_governor.breaker.state',
  BREAKER_TRANSITIONS: 'llm_governor.breaker.transitions',
  FALLBACKS: 'llm_governor.fallbacks',
  RETRIES: 'llm_governor.retries',
  RATELIMIT_REMAINING: 'llm_governor.ratelimit.remaining',
  RATELIMIT_WAIT: 'llm_governor.ratelimit.wait',
  RATELIMIT_RESET_CLAMPED: 'llm_governor.ratelimit.reset_clamped',
  CACHE_REQUESTS: 'llm_governor.cache.requests',
  CACHE_SAVED: 'llm_governor.cache.saved',
  MODERATION_FLAGGED: 'llm_governor.moderation.flagged',
  TOKENS_CACHED_INPUT: 'llm_governor.tokens.cached_input',
  AUDIT_EVENTS: 'llm_governor.audit.events',
  AUDIT_DROPPED: 'llm_governor.audit.dropped',
  AUDIT_SINK_ERRORS: 'llm_governor.audit.sink_errors',
  AUDIT_DELIVERED: 'llm_governor.audit.delivered',
  CONFIG_INFO: 'llm_governor.config.info',
} as const;

/** Attributes of `llm_governor.config.info`: the config in force (Prometheus: `version`, `origin`, `sha256`). */
export const CONFIG_ATTR = {
  VERSION: 'version',
  ORIGIN: 'origin',
  SHA256: 'sha256',
} as const;

/** The OpenTelemetry log record `eventName` of every audit event. */
export const AUDIT_EVENT_NAME = 'llm_governor.audit';

/** Attributes of the audit metrics and log records. */
export const AUDIT_ATTR = {
  KIND: 'llm_governor.audit.kind',
  SINK: 'llm_governor.audit.sink',
  REASON: 'reason',
  OCSF_CLASS_UID: 'ocsf.class_uid',
} as const;

/** `reason` values of `llm_governor.requests.rejected`. */
export const REJECT_REASON = {
  BUDGET: 'budget',
  BUDGET_UNAVAILABLE: 'budget_unavailable',
  CIRCUIT_OPEN: 'circuit_open',
  RATE_LIMITED: 'rate_limited',
  CONTENT: 'content',
} as const;

/** Bucket boundaries the conventions advise (the chunk timings use the duration's). */
export const BUCKETS = {
  SECONDS: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92],
  TOKENS: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864],
} as const;

/** Opt-in content capture, as the conventions name it. */
export const ENV_CAPTURE_CONTENT = 'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT';

export const INSTRUMENTATION_NAME = 'llm-governor';
