// The benchmark's surroundings: the machine, package versions, free ports, a real redis-server,
// and an OTLP/HTTP receiver that accepts trace exports and counts them.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import { delimiter, join } from 'node:path';

export function machineInfo() {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  let mhz;
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const m = info.match(/^model name\s*:\s*(.+)$/m);
    if (m) cpuModel = m[1].trim();
    const f = info.match(/^cpu MHz\s*:\s*(.+)$/m);
    if (f) mhz = Number(f[1]);
  } catch {
    /* not Linux */
  }
  return {
    cpuModel,
    cpuMHz: mhz,
    cores: os.cpus().length,
    memoryBytes: os.totalmem(),
    node: process.version,
    v8: process.versions.v8,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

export function packageVersion(repoRoot, name) {
  try {
    return JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

export function versions(repoRoot, redisBinary) {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  const otel = [
    '@opentelemetry/api',
    '@opentelemetry/sdk-node',
    '@opentelemetry/sdk-trace-base',
    '@opentelemetry/sdk-metrics',
    '@opentelemetry/exporter-trace-otlp-proto',
    '@opentelemetry/exporter-prometheus',
    '@opentelemetry/instrumentation',
    '@opentelemetry/instrumentation-openai',
  ];
  const out = {
    'llm-governor': pkg.version,
    openai: packageVersion(repoRoot, 'openai'),
    ai: packageVersion(repoRoot, 'ai'),
    '@ai-sdk/openai': packageVersion(repoRoot, '@ai-sdk/openai'),
    ioredis: packageVersion(repoRoot, 'ioredis'),
  };
  for (const name of otel) out[name] = packageVersion(repoRoot, name);
  try {
    out['redis-server'] = execFileSync(redisBinary, ['--version'], { encoding: 'utf8' }).match(/v=(\S+)/)?.[1];
  } catch {
    out['redis-server'] = undefined;
  }
  try {
    out.commit = execFileSync('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', repoRoot, 'status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim();
    if (dirty) out.commit += ' (src/ has uncommitted changes)';
  } catch {
    /* not a git checkout */
  }
  return out;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export function findRedisServer() {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  return [...dirs.map((d) => join(d, 'redis-server')), '/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((f) => existsSync(f));
}

/** A redis-server on a free port, no persistence, its working directory in `dir`. */
export async function startRedis(binary, dir, RedisClass) {
  const port = await freePort();
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited early:\n${output}`);
    const admin = new RedisClass(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    admin.on('error', () => undefined); // refused while the server starts: retried below
    try {
      await admin.connect();
      if ((await admin.ping()) === 'PONG') {
        return {
          url,
          port,
          admin,
          pid: child.pid,
          async stop() {
            admin.disconnect();
            if (child.exitCode !== null) return;
            const exited = new Promise((resolve) => child.once('exit', resolve));
            child.kill('SIGTERM');
            await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
            if (child.exitCode === null) child.kill('SIGKILL');
          },
        };
      }
    } catch {
      admin.disconnect();
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer PING:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * An OTLP/HTTP receiver: accepts every export (200, an empty protobuf answer, which is a valid
 * ExportTraceServiceResponse), and counts requests and bytes per configuration (the first path
 * segment names it: /<config>/v1/traces).
 */
export async function startOtlpReceiver() {
  const counts = new Map();
  const server = http.createServer((req, res) => {
    const id = (req.url ?? '/').split('/')[1] || 'unknown';
    let bytes = 0;
    req.on('data', (d) => (bytes += d.length));
    req.on('end', () => {
      const c = counts.get(id) ?? { requests: 0, bytes: 0 };
      c.requests++;
      c.bytes += bytes;
      counts.set(id, c);
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' });
      res.end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    snapshot: (id) => ({ ...(counts.get(id) ?? { requests: 0, bytes: 0 }) }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The share of the machine's CPU busy over `ms` (from /proc/stat), or undefined off Linux. */
export async function busyShare(ms = 1000) {
  const read = () => {
    try {
      const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
      const idle = f[3] + (f[4] ?? 0);
      return { idle, total: f.reduce((a, b) => a + b, 0) };
    } catch {
      return undefined;
    }
  };
  const a = read();
  await new Promise((r) => setTimeout(r, ms));
  const b = read();
  if (!a || !b || b.total === a.total) return undefined;
  return 1 - (b.idle - a.idle) / (b.total - a.total);
}
