/** llm-governor: the library API. The preload is `llm-governor/register`. */
export { LlmGovernorInstrumentation, type LlmGovernorInstrumentationConfig } from './instrumentation/instrumentation';
export { wrap } from './wrap';
export { loadConfig, ConfigError, type LoadedConfig, type ConfigProblem } from './config/load';
export { configSchema, type GovernorConfig } from './config/schema';
export { detectProvider, type ProviderInfo } from './providers/detect';
export * as semconv from './semconv';
export { withAttributes, type Attribution } from './attribution';
export { BudgetExceededError, BudgetUnavailableError, CircuitOpenError, RateLimitExceededError, ContentBlockedError, type BudgetExceededDetails } from './errors';
export { PriceTable } from './cost/prices';
export { flush } from './flush';
export { reload, type ReloadOutcome } from './live-config/api';
