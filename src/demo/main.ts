/**
 * `npm run demo`: runs the sample app (demo/app.mjs, plain openai SDK code) under the preload
 * against the embedded simulator, and shows what its own /metrics endpoint says, live.
 *   --serve        keep running until Ctrl-C
 *   --seconds N    how long the app sends traffic (default 25)
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { startSimulator } from '../simulator/index';
import { progressBar, renderTable, rowsFromScrape, type Row } from './view';

const REPO = resolve(__dirname, '../..');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function portFree(port: number): Promise<boolean> {
  const srv = createServer();
  return new Promise((r) => {
    srv.once('error', () => r(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => r(true)));
  });
}

async function pickPort(preferred: number): Promise<number> {
  if (await portFree(preferred)) return preferred;
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function scrape(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const serve = process.argv.includes('--serve');
  const seconds = Number(arg('--seconds') ?? 25);
  const tty = process.stdout.isTTY;
  const sim = await startSimulator({ seed: 7, latencyMs: 60, chunkDelayMs: 8 });
  const metricsPort = await pickPort(Number(process.env.DEMO_METRICS_PORT ?? 9464));
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;

  const app = spawn(process.execPath, ['--import', resolve(REPO, 'dist/register.mjs'), resolve(REPO, 'demo/app.mjs')], {
    cwd: REPO,
    stdio: ['pipe', 'pipe', 'inherit'],
    env: {
      ...process.env,
      OPENAI_API_KEY: 'sk-demo-not-a-real-key-000000000000',
      DEMO_OPENAI_BASE_URL: sim.openaiBaseURL,
      AZURE_OPENAI_API_KEY: 'demo-azure-key-000000000000',
      AZURE_OPENAI_ENDPOINT: sim.azureEndpoint,
      OPENAI_API_VERSION: '2024-10-21',
      XAI_API_KEY: 'xai-demo-not-a-real-key-000000000000',
      XAI_API_ENDPOINT: sim.xaiBaseURL,
      OTEL_SERVICE_NAME: process.env.OTEL_SERVICE_NAME ?? 'llm-governor-demo',
      OTEL_TRACES_EXPORTER: process.env.OTEL_TRACES_EXPORTER ?? 'none',
      OTEL_LOGS_EXPORTER: process.env.OTEL_LOGS_EXPORTER ?? 'none',
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
      DEMO_SECONDS: String(seconds),
      DEMO_FOREVER: serve ? '1' : '0',
    },
  });

  let appSummary: { ok: number; failed: number } | undefined;
  let ready = false;
  let out = '';
  app.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (const line of out.split('\n').slice(0, -1)) {
      if (line.startsWith('{')) {
        try {
          appSummary = JSON.parse(line);
        } catch {
          /* not ours */
        }
      }
      if (line === 'READY') ready = true;
    }
    out = out.slice(out.lastIndexOf('\n') + 1);
  });
  const exited = new Promise<number>((r) => app.on('close', (code) => r(code ?? 1)));

  console.log(`llm-governor demo: sample app under the preload → simulator at ${sim.url}`);
  console.log(`metrics: ${metricsUrl}${serve ? '  (--serve: Ctrl-C to stop)' : ''}\n`);
  const started = Date.now();
  let rows: Row[] = [];
  let lastPrint = 0;
  const render = (final: boolean) => {
    const elapsed = (Date.now() - started) / 1000;
    const calls = rows.reduce((a, r) => a + r.calls, 0);
    const errors = rows.reduce((a, r) => a + r.errors, 0);
    const tin = rows.reduce((a, r) => a + r.inputTokens, 0);
    const tout = rows.reduce((a, r) => a + r.outputTokens, 0);
    const head = `${serve ? `${Math.round(elapsed)} s` : progressBar(elapsed / seconds)}  calls ${calls}  errors ${errors}  tokens ${tin} in / ${tout} out`;
    if (tty && !final) {
      process.stdout.write(`\x1b[s\x1b[J${head}\n\n${renderTable(rows)}\n\x1b[u`);
    } else if (final || Date.now() - lastPrint > 5000) {
      lastPrint = Date.now();
      console.log(final ? `\n${renderTable(rows)}\n` : head);
    }
  };

  let stopping = false;
  process.on('SIGINT', () => {
    stopping = true;
  });
  while (!ready && !stopping) {
    await new Promise((r) => setTimeout(r, 1000));
    const text = await scrape(metricsUrl);
    if (text) rows = rowsFromScrape(text);
    render(false);
    if (app.exitCode !== null) break;
  }
  const finalText = await scrape(metricsUrl);
  if (finalText) rows = rowsFromScrape(finalText);
  app.stdin.end();
  if (stopping) app.kill('SIGTERM');
  const code = await exited;
  await sim.close();

  if (tty) process.stdout.write('\x1b[J');
  render(true);
  const providers = new Set(rows.filter((r) => r.calls > 0).map((r) => r.provider));
  const calls = rows.reduce((a, r) => a + r.calls, 0);
  console.log(`summary: ${calls} calls recorded by /metrics over ${providers.size} providers (${[...providers].join(', ')}); app saw ${appSummary?.ok ?? '?'} ok, ${appSummary?.failed ?? '?'} failed; app exit code ${code}`);
  const healthy = code === 0 && (stopping || ['openai', 'azure.ai.openai', 'x_ai'].every((p) => providers.has(p)));
  if (!healthy) console.log('demo: FAILED (expected calls from all three providers and a clean exit)');
  return healthy ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error('demo failed:', err);
    process.exit(1);
  },
);
