import { diag, DiagConsoleLogger, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { redact } from './redaction';
import { INSTRUMENTATION_NAME } from './semconv';

/** Distinct warnings of ours printed at most (each is printed once). */
const MAX_REMEMBERED = 1000;

/** True for a diag message of ours: `llm-governor: …`, or our instrumentation's component logger. */
function isOwnMessage(args: unknown[]): boolean {
  const first = args[0];
  return typeof first === 'string' && (first === INSTRUMENTATION_NAME || first.startsWith('llm-governor'));
}

/**
 * The preload's diag logger. With `OTEL_LOG_LEVEL` set, everything at that level goes to the
 * console, as OpenTelemetry users expect. Without it, the app's output stays as it was without
 * us: only our own warnings and errors (an invalid setting, an unknown price, a store outage)
 * reach stderr, each distinct one once, with the `llm-governor:` prefix; the OpenTelemetry SDK's
 * own lines (an exporter that cannot reach a Collector, a resource read early) stay silent.
 */
export function installDiagLogger(env: NodeJS.ProcessEnv = process.env, write: (line: string) => void = (l) => process.stderr.write(l)): void {
  const requested = env.OTEL_LOG_LEVEL?.trim().toUpperCase();
  const level = requested ? DiagLogLevel[requested as keyof typeof DiagLogLevel] : undefined;
  if (level !== undefined) {
    diag.setLogger(new DiagConsoleLogger(), level);
    return;
  }
  diag.setLogger(ownWarningsOnce(write), DiagLogLevel.WARN);
}

/** A diag logger that prints our own warnings and errors, each distinct message once, and nothing else. */
function ownWarningsOnce(write: (line: string) => void): DiagLogger {
  const printed = new Set<string>();
  const print = (args: unknown[]) => {
    if (!isOwnMessage(args)) return;
    const text = args
      .map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : safeJson(a)))
      .join(' ')
      .replace(/^llm-governor llm-governor:/, 'llm-governor:');
    const line = redact(text.startsWith('llm-governor:') ? text : `llm-governor: ${text.replace(/^llm-governor\s*/, '')}`);
    if (printed.has(line)) return;
    if (printed.size < MAX_REMEMBERED) printed.add(line);
    try {
      write(`${line}\n`);
    } catch {
      /* never into the app */
    }
  };
  return {
    error: (...a: unknown[]) => print(a),
    warn: (...a: unknown[]) => print(a),
    info: () => undefined,
    debug: () => undefined,
    verbose: () => undefined,
  };
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}
