import { z } from 'zod';
import { PROVIDER } from '../semconv';

const bool = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  const s = v.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(s)) return true;
  if (['false', '0', 'no', 'off', ''].includes(s)) return false;
  return v;
}, z.boolean({ error: 'expected true or false' }));

const num = (schema: z.ZodNumber) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v), schema);

const providerName = z.enum([PROVIDER.OPENAI, PROVIDER.AZURE, PROVIDER.XAI], {
  error: `expected one of ${PROVIDER.OPENAI}, ${PROVIDER.AZURE}, ${PROVIDER.XAI}`,
});

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
    /** Shutdown: how long to wait for exporters to flush on exit, in milliseconds. */
    flush_timeout_ms: num(z.number({ error: 'expected a number of milliseconds' }).int().min(0).max(60_000)).default(2_000),
  })
  .strict();

export type GovernorConfig = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
