import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

export const REPO = resolve(__dirname, '../..');
const REGISTER_CJS = resolve(REPO, 'dist/register.js');
const REGISTER_ESM = resolve(REPO, 'dist/register.mjs');

export interface AppRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  script: string;
  /** `none` runs the app bare; `require` / `import` run it under the preload. */
  preload: 'none' | 'require' | 'import';
  env?: Record<string, string | undefined>;
  cwd?: string;
  node?: string;
  /** Path of the register entry (defaults to this repo's dist/). */
  register?: string;
  /** Called with the child once it prints a line `READY`; resolve it to let the app go on. */
  onReady?: (child: import('node:child_process').ChildProcess) => Promise<void>;
  timeoutMs?: number;
  /** Extra node flags, before the preload (e.g. --expose-gc). */
  nodeArgs?: string[];
  /** Called with the child as soon as it is spawned. */
  onSpawn?: (child: import('node:child_process').ChildProcess) => void;
}

/** Runs an app in a child process, as a user would: `node [--require|--import register] app`. */
export function runApp(o: RunOptions): Promise<AppRun> {
  const args: string[] = [...(o.nodeArgs ?? [])];
  if (o.preload === 'require') args.push('--require', o.register ?? REGISTER_CJS);
  if (o.preload === 'import') args.push('--import', o.register ?? REGISTER_ESM);
  args.push(o.script);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...o.env })) if (v !== undefined) env[k] = v;
  // Never inherit vitest's own variables into the app.
  for (const k of Object.keys(env)) if (k.startsWith('VITEST') || k === 'NODE_OPTIONS') delete env[k];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(o.node ?? process.execPath, args, { cwd: o.cwd ?? REPO, env, stdio: ['pipe', 'pipe', 'pipe'] });
    o.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    let readySeen = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 45_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!readySeen && o.onReady && /^READY$/m.test(stdout)) {
        readySeen = true;
        o.onReady(child).catch(reject);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Environment for an app under the preload that exports to a test OTLP receiver. */
export function telemetryEnv(otlpUrl: string, promPort?: number): Record<string, string> {
  return {
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_BLRP_SCHEDULE_DELAY: '100',
    OTEL_SERVICE_NAME: 'test-app',
    ...(promPort ? { OTEL_EXPORTER_PROMETHEUS_PORT: String(promPort), OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1' } : { OTEL_METRICS_EXPORTER: 'none' }),
  };
}
