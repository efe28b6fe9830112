// The child processes the harness drives: one per configuration (scripts/bench/worker.cjs),
// commanded over IPC, optionally pinned to a core.
import { execFileSync, fork } from 'node:child_process';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(benchDir, '..', '..');
const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);

/**
 * `--pin` (Linux, `taskset`, two cores or more): the measured app on core 0, the harness with the
 * simulator and redis-server on the last core, so that serving a call never competes with making
 * it. Off by default: on a 2-core machine the app's GC and libuv threads then share its one core,
 * which raised every configuration's CPU per call by about a third in a trial, without a
 * visibly steadier result.
 */
export function pinning(wanted) {
  if (!wanted || os.platform() !== 'linux' || os.availableParallelism() < 2) return undefined;
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  return { app: '0', harness: String(os.availableParallelism() - 1) };
}

export function pin(pid, cpus) {
  try {
    execFileSync('taskset', ['-apc', cpus, String(pid)], { stdio: 'ignore' });
  } catch (err) {
    log(`could not pin pid ${pid} to CPU ${cpus}: ${err.message}`);
  }
}

/** Rotates the order each repetition, so that no configuration always runs first or last. */
export function rotated(list, r) {
  const k = r % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

export class Worker {
  /** config: { id, execArgv, env }; options: { extraExecArgv (before the config's), pinTo (cores) }. */
  constructor(config, { extraExecArgv = [], pinTo } = {}) {
    this.config = config;
    this.pending = new Map();
    this.seq = 0;
    this.stderr = '';
    this.child = fork(join(benchDir, 'worker.cjs'), [], {
      cwd: repoRoot,
      execArgv: ['--expose-gc', ...extraExecArgv, ...config.execArgv],
      env: config.env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    if (pinTo) pin(this.child.pid, pinTo);
    this.child.stdout.on('data', () => undefined);
    this.child.stderr.on('data', (d) => {
      if (this.stderr.length < 20_000) this.stderr += d;
    });
    this.exited = new Promise((done) => this.child.once('exit', (code, signal) => done({ code, signal })));
    this.child.on('message', (msg) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new Error(`${config.id}: ${msg.error}`));
    });
    this.exited.then(({ code, signal }) => {
      for (const p of this.pending.values()) p.reject(new Error(`${config.id}: worker exited (${code ?? signal})\n${this.stderr}`));
      this.pending.clear();
    });
  }

  get pid() {
    return this.child.pid;
  }

  call(cmd, args) {
    const id = ++this.seq;
    return new Promise((done, fail) => {
      this.pending.set(id, { resolve: done, reject: fail });
      this.child.send({ id, cmd, args });
    });
  }

  async close() {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    await this.call('exit').catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}
