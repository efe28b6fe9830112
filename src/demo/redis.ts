/**
 * A private redis-server for the demo's fleet config push, when one is on PATH: 127.0.0.1, a free
 * port, no persistence, in a temp dir; stopped (and the dir removed) at the end.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pickPort } from './ports';

export interface DemoRedis {
  url: string;
  stop(): Promise<void>;
}

function onPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const file = join(dir, binary);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** Undefined when redis-server is not on PATH or does not come up within 5 s. */
export async function startDemoRedis(): Promise<DemoRedis | undefined> {
  const binary = onPath('redis-server');
  if (!binary) return undefined;
  const port = await pickPort();
  const dir = mkdtempSync(join(tmpdir(), 'llm-governor-demo-redis-'));
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  // Never left behind, even when the demo fails before its end.
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    process.removeListener('exit', killOnExit);
    rmSync(dir, { recursive: true, force: true });
  };
  const ready = await new Promise<boolean>((r) => {
    const timer = setTimeout(() => r(false), 5000);
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        r(true);
      }
    });
    child.once('error', () => r(false));
    child.once('close', () => r(false));
  });
  if (!ready) {
    await stop();
    return undefined;
  }
  child.stdout.resume();
  child.stderr.resume();
  return { url: `redis://127.0.0.1:${port}`, stop };
}
