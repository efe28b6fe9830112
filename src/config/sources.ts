/**
 * Where each setting can come from. One table: the config-file key, and the environment
 * variables (first one wins) that set it. Environment values override the file; the fleet config
 * (pushed through Redis) overrides both.
 */
export interface EnvBinding {
  key: string;
  env: readonly string[];
}

export const ENV_BINDINGS: readonly EnvBinding[] = [
  { key: 'disabled', env: ['LLM_GOVERNOR_DISABLED'] },
  { key: 'fail_closed', env: ['LLM_GOVERNOR_FAIL_CLOSED'] },
  { key: 'capture_content', env: ['OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT', 'LLM_GOVERNOR_CAPTURE_CONTENT'] },
  { key: 'request_stream_usage', env: ['LLM_GOVERNOR_REQUEST_STREAM_USAGE'] },
  { key: 'sdk', env: ['LLM_GOVERNOR_SDK'] },
  { key: 'service_name', env: ['LLM_GOVERNOR_SERVICE_NAME'] },
  { key: 'flush_timeout_ms', env: ['LLM_GOVERNOR_FLUSH_TIMEOUT_MS'] },
  { key: 'daily_budget_usd', env: ['LLM_GOVERNOR_DAILY_BUDGET_USD', 'OPENAI_DAILY_BUDGET_USD'] },
  { key: 'alert_threshold_usd', env: ['LLM_GOVERNOR_ALERT_THRESHOLD_USD', 'OPENAI_ALERT_THRESHOLD_USD'] },
  { key: 'redis_url', env: ['LLM_GOVERNOR_REDIS_URL', 'REDIS_CACHE_URL'] },
  { key: 'redis_command_timeout_ms', env: ['LLM_GOVERNOR_REDIS_COMMAND_TIMEOUT_MS'] },
  { key: 'store_failure_mode', env: ['LLM_GOVERNOR_STORE_FAILURE_MODE'] },
  { key: 'reservation_ttl_seconds', env: ['LLM_GOVERNOR_RESERVATION_TTL_SECONDS'] },
  { key: 'user_hash_salt', env: ['LLM_GOVERNOR_USER_HASH_SALT'] },
  { key: 'wire_label_limit', env: ['LLM_GOVERNOR_WIRE_LABEL_LIMIT'] },
  { key: 'breaker_enabled', env: ['LLM_GOVERNOR_BREAKER_ENABLED'] },
  { key: 'breaker_failures', env: ['LLM_GOVERNOR_BREAKER_FAILURES', 'OPENAI_CIRCUIT_BREAKER_FAILURES'] },
  { key: 'breaker_reset_seconds', env: ['LLM_GOVERNOR_BREAKER_RESET_SECONDS', 'OPENAI_CIRCUIT_BREAKER_TIMEOUT'] },
  { key: 'max_retries', env: ['LLM_GOVERNOR_MAX_RETRIES', 'OPENAI_MAX_RETRIES'] },
  { key: 'timeout_seconds', env: ['LLM_GOVERNOR_TIMEOUT_SECONDS', 'OPENAI_TIMEOUT_SECONDS'] },
  { key: 'retry_max_delay_seconds', env: ['LLM_GOVERNOR_RETRY_MAX_DELAY_SECONDS'] },
  { key: 'retry_after_max_seconds', env: ['LLM_GOVERNOR_RETRY_AFTER_MAX_SECONDS'] },
  { key: 'rate_limit_rpm', env: ['LLM_GOVERNOR_RATE_LIMIT_RPM', 'OPENAI_RATE_LIMIT_RPM'] },
  { key: 'rate_limit_tpm', env: ['LLM_GOVERNOR_RATE_LIMIT_TPM', 'OPENAI_RATE_LIMIT_TPM'] },
  { key: 'rate_limit_max_wait_seconds', env: ['LLM_GOVERNOR_RATE_LIMIT_MAX_WAIT_SECONDS'] },
  { key: 'cache_enabled', env: ['LLM_GOVERNOR_CACHE', 'LLM_GOVERNOR_CACHE_ENABLED'] },
  { key: 'cache_ttl_seconds', env: ['LLM_GOVERNOR_CACHE_TTL_SECONDS'] },
  { key: 'cache_max_entries', env: ['LLM_GOVERNOR_CACHE_MAX_ENTRIES'] },
  { key: 'cache_serve_stale_seconds', env: ['LLM_GOVERNOR_CACHE_SERVE_STALE_SECONDS'] },
  { key: 'cache_store', env: ['LLM_GOVERNOR_CACHE_STORE'] },
  { key: 'moderation_endpoint', env: ['LLM_GOVERNOR_MODERATION_ENDPOINT'] },
  { key: 'moderation_model', env: ['LLM_GOVERNOR_MODERATION_MODEL'] },
  { key: 'moderation_categories', env: ['LLM_GOVERNOR_MODERATION_CATEGORIES'] },
  { key: 'moderation_failure_mode', env: ['LLM_GOVERNOR_MODERATION_FAILURE_MODE'] },
  { key: 'config_watch', env: ['LLM_GOVERNOR_CONFIG_WATCH'] },
  { key: 'fleet_config', env: ['LLM_GOVERNOR_FLEET_CONFIG'] },
  { key: 'fleet_config_check_seconds', env: ['LLM_GOVERNOR_FLEET_CONFIG_CHECK_SECONDS'] },
  { key: 'audit_otel_logs', env: ['LLM_GOVERNOR_AUDIT_OTEL_LOGS'] },
  { key: 'audit_file', env: ['LLM_GOVERNOR_AUDIT_FILE'] },
  { key: 'audit_file_max_mb', env: ['LLM_GOVERNOR_AUDIT_FILE_MAX_MB'] },
  { key: 'audit_file_max_files', env: ['LLM_GOVERNOR_AUDIT_FILE_MAX_FILES'] },
  { key: 'audit_syslog', env: ['LLM_GOVERNOR_AUDIT_SYSLOG'] },
  { key: 'audit_queue_size', env: ['LLM_GOVERNOR_AUDIT_QUEUE_SIZE'] },
];

export const ENV_CONFIG_FILE = 'LLM_GOVERNOR_CONFIG';
