// Runs an app under the preload with its telemetry observed: OTLP spans to a test receiver, and
// one scrape of its Prometheus endpoint taken when the app prints READY (apps that honour
// WAIT_FOR_SCRAPE=1 wait for it, then exit when stdin closes).
import { startOtlpReceiver, type TestLogRecord, type TestSpan } from './otlp';
import { parsePrometheusText, type Sample } from '../../src/util/prometheus-text';
import { freePort, runApp, telemetryEnv, type RunOptions } from './run-app';

export interface ObservedRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The app's last stdout line that parses as JSON. */
  out: any;
  spans: TestSpan[];
  /** OTLP log records (the audit events among them). */
  logs: TestLogRecord[];
  /** Every OTLP payload as received (for secret scans). */
  otlpRaw: string[];
  samples: Sample[];
  scrape: string;
}

export async function runObserved(o: Omit<RunOptions, 'preload' | 'onReady'> & { preload?: RunOptions['preload'] }): Promise<ObservedRun> {
  const otlp = await startOtlpReceiver();
  const port = await freePort();
  let scrape = '';
  try {
    const r = await runApp({
      preload: 'require',
      ...o,
      env: { WAIT_FOR_SCRAPE: '1', ...telemetryEnv(otlp.url, port), ...o.env },
      onReady: async (child) => {
        scrape = await settledScrape(otlp, port);
        child.stdin!.end();
      },
    });
    // Spans are flushed at exit; give the receiver a moment to parse the last batch.
    await new Promise((res) => setTimeout(res, 50));
    const line = r.stdout
      .trim()
      .split('\n')
      .reverse()
      .find((l) => l.startsWith('{'));
    return { ...r, out: line ? JSON.parse(line) : undefined, spans: [...otlp.spans], logs: [...otlp.logs], otlpRaw: otlp.raw.map((x) => x.text), samples: parsePrometheusText(scrape), scrape };
  } finally {
    await otlp.close();
  }
}

/**
 * The app's Prometheus scrape, once its work is done: asynchronous settlements have landed and the
 * batched OTLP exports have arrived (an app that exits with process.exit flushes nothing), waiting
 * until they stop coming.
 */
export async function settledScrape(otlp: { raw: unknown[] }, port: number): Promise<string> {
  await new Promise((res) => setTimeout(res, 200));
  const started = Date.now();
  let seen = -1;
  while (Date.now() - started < 2_000 && (otlp.raw.length === 0 || otlp.raw.length !== seen)) {
    seen = otlp.raw.length;
    await new Promise((res) => setTimeout(res, 150));
  }
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** Sum of a metric's samples whose labels include `labels`. */
export function sumOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}
