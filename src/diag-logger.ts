import { diag, DiagConsoleLogger, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { INSTRUMENTATION_NAME } from './semconv';

/**
 * The preload's diag logger. With OTEL_LOG_LEVEL set, everything at that level goes to the console,
 * as OpenTelemetry users expect. Without it, our own warnings (an untested openai version, a
 * telemetry fault) still reach stderr, but other components only at ERROR: an app that never
 * asked for OpenTelemetry logs does not get the SDK's chatter.
 */
export function installDiagLogger(env: NodeJS.ProcessEnv = process.env): void {
  const requested = env.OTEL_LOG_LEVEL?.trim().toUpperCase();
  const level = requested ? DiagLogLevel[requested as keyof typeof DiagLogLevel] : undefined;
  if (level !== undefined) {
    diag.setLogger(new DiagConsoleLogger(), level);
    return;
  }
  const console = new DiagConsoleLogger();
  const ours = (args: unknown[]) => typeof args[0] === 'string' && (args[0] === INSTRUMENTATION_NAME || args[0].startsWith('llm-governor'));
  const logger: DiagLogger = {
    error: (...a: unknown[]) => console.error(...(a as [string])),
    warn: (...a: unknown[]) => (ours(a) ? console.warn(...(a as [string])) : undefined),
    info: () => undefined,
    debug: () => undefined,
    verbose: () => undefined,
  };
  diag.setLogger(logger, DiagLogLevel.WARN);
}
