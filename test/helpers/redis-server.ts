// A real redis-server for tests: 127.0.0.1, a free port, no persistence, in a temp dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface RedisTestServer {
  url: string;
  port: number;
  /** Graceful stop (SIGTERM), waits for the exit; removes the temp dir. */
  stop(): Promise<void>;
  /** SIGKILL, without waiting. */
  kill(): void;
  /** Freezes the server (SIGSTOP) for `ms`, keeping its data: unreachable, then back as it was. */
  pause(ms: number): Promise<void>;
  /** Starts the server again on the same port (after kill() or stop()), waits until it answers PING. */
  restart(): Promise<void>;
}

function findBinary(): string | undefined {
  const candidates = [
    ...(process.env.PATH ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, 'redis-server')),
    '/usr/bin/redis-server',
    '/usr/local/bin/redis-server',
    '/usr/sbin/redis-server',
  ];
  return candidates.find((file) => existsSync(file));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves when the server answers +PONG, rejects after timeoutMs. */
async function waitForPing(port: number, child: ChildProcess, output: () => string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server exited (${child.exitCode ?? child.signalCode}) before answering:\n${output()}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      let data = '';
      const finish = (result: boolean) => {
        socket.destroy();
        resolve(result);
      };
      socket.setTimeout(500, () => finish(false));
      socket.on('error', () => finish(false));
      socket.on('connect', () => socket.write('PING\r\n'));
      socket.on('data', (chunk) => {
        data += chunk.toString();
        if (data.includes('\r\n')) finish(data.startsWith('+PONG'));
      });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startRedis(): Promise<RedisTestServer> {
  const binary = findBinary();
  if (!binary) {
    throw new Error('redis-server not found on PATH: install it (e.g. `sudo apt-get install redis-server`) to run the Redis budget-store tests');
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'llm-governor-redis-'));
  let child: ChildProcess | undefined;
  let output = '';

  const launch = async () => {
    output = '';
    const proc = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    proc.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    proc.on('error', (e) => (output += `\nspawn error: ${e.message}`));
    await waitForPing(port, proc, () => output);
  };

  const exited = (proc: ChildProcess) => (proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => proc.once('exit', () => resolve())));

  await launch();

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill() {
      child?.kill('SIGKILL');
    },
    async pause(ms: number) {
      child?.kill('SIGSTOP');
      await new Promise((r) => setTimeout(r, ms));
      child?.kill('SIGCONT');
    },
    async restart() {
      if (child) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited(child);
      }
      // The port may still be held for a moment after a kill: retry a few times.
      for (let attempt = 1; ; attempt++) {
        try {
          await launch();
          return;
        } catch (error) {
          if (attempt >= 5) throw error;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    async stop() {
      if (child) {
        const proc = child;
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 3_000);
        await exited(proc);
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
