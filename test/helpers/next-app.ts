// A Next.js app as its user builds and serves it: test/fixtures/next-app copied into a temp
// folder, llm-governor installed there as npm installs it, `next build`, then `next start` with
// its telemetry observed (OTLP to a test receiver, one Prometheus scrape once the work is done).
import { execFile, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parsePrometheusText, type Sample } from '../../src/util/prometheus-text';
import { settledScrape } from './observed-run';
import { startOtlpReceiver, type TestLogRecord, type TestSpan } from './otlp';
import { freePort, REPO, telemetryEnv } from './run-app';

const NEXT = resolve(REPO, 'node_modules/next/dist/bin/next');
const FIXTURE = resolve(REPO, 'test/fixtures/next-app');

/** The environment of a `next` command: ours, less vitest's, and no telemetry to Vercel. */
function nextEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('VITEST') && k !== 'NODE_OPTIONS') env[k] = v;
  return { ...env, NEXT_TELEMETRY_DISABLED: '1', ...extra };
}

/**
 * Copies the fixture and builds it with `next build` (its default bundler, Turbopack in Next 16).
 * The copy lives under this repo's .tmp/ so that next, react, ai and openai resolve from the
 * repo's node_modules, inside the root Turbopack allows. llm-governor goes into the copy's
 * node_modules as the files its package.json ships, a real folder: a link out of node_modules
 * would make the bundler take it for app code and bundle it, whatever serverExternalPackages says.
 * Without `instrumentationHook` the copy has no instrumentation.js (the NODE_OPTIONS way).
 */
export async function buildNextApp(o: { instrumentationHook: boolean }): Promise<string> {
  mkdirSync(join(REPO, '.tmp'), { recursive: true });
  const dir = mkdtempSync(join(REPO, '.tmp', 'next-app-'));
  cpSync(FIXTURE, dir, { recursive: true, filter: (src) => !/[\\/](\.next|node_modules)$/.test(src) });
  if (!o.instrumentationHook) rmSync(join(dir, 'instrumentation.js'));
  const installed = join(dir, 'node_modules', 'llm-governor');
  const shipped: string[] = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).files;
  for (const f of ['package.json', ...shipped]) cpSync(join(REPO, f), join(installed, f), { recursive: true });
  await promisify(execFile)(process.execPath, [NEXT, 'build'], { cwd: dir, env: nextEnv({}), timeout: 280_000, maxBuffer: 16 << 20 });
  return dir;
}

export interface ObservedServer<T> {
  /** What `exercise` returned. */
  out: T;
  code: number | null;
  stdout: string;
  stderr: string;
  spans: TestSpan[];
  logs: TestLogRecord[];
  samples: Sample[];
}

/**
 * Serves a built app with `next start` on a free port (NODE_OPTIONS as given), hands its URL to
 * `exercise` once it is ready, then scrapes its metrics, stops it with SIGTERM and returns what
 * its telemetry said.
 */
export async function observeNext<T>(dir: string, o: { nodeOptions?: string; env?: Record<string, string> }, exercise: (url: string) => Promise<T>): Promise<ObservedServer<T>> {
  const otlp = await startOtlpReceiver();
  const [port, promPort] = [await freePort(), await freePort()];
  const env = nextEnv({ ...telemetryEnv(otlp.url, promPort), ...(o.nodeOptions ? { NODE_OPTIONS: o.nodeOptions } : {}), ...o.env });
  const child = spawn(process.execPath, [NEXT, 'start', '-p', String(port), '-H', '127.0.0.1'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  try {
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`next start was not ready in 60 s:\n${stdout}${stderr}`)), 60_000);
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (!/Ready in/.test(stdout)) return;
        clearTimeout(timer);
        ready();
      });
      closed.then((code) => fail(new Error(`next start exited (${code}):\n${stdout}${stderr}`)));
    });
    const out = await exercise(`http://127.0.0.1:${port}`);
    const samples = parsePrometheusText(await settledScrape(otlp, promPort));
    child.kill('SIGTERM');
    const code = await closed;
    await new Promise((res) => setTimeout(res, 50));
    return { out, code, stdout, stderr, spans: [...otlp.spans], logs: [...otlp.logs], samples };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await otlp.close();
  }
}

/** POSTs `body` as JSON to a route and returns its JSON answer. */
export async function postJson(url: string, body: unknown): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return res.json();
}
