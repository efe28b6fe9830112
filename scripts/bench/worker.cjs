'use strict';
/**
 * One benchmark configuration: a plain openai SDK app (or, with BENCH_CLIENT=ai-sdk, a plain AI
 * SDK app: `ai` + `@ai-sdk/openai`, which never loads openai), run as its own child process so that a
 * preload (`--require dist/register.js`, or the peer's NodeSDK setup) applies to it alone.
 * It never imports llm-governor. The orchestrator (run.mjs) drives it over the IPC channel:
 * every command runs to completion and answers with its measurements; between commands the
 * process is idle, so configurations can be interleaved without competing for the CPU.
 *
 * Measured per call: wall time (hrtime) and CPU time (process.cpuUsage: user + system of the
 * whole process, so GC, exporter and audit-drain work done on other threads count too).
 * A batch's CPU also includes flushing the spans it produced (forceFlush of the global tracer
 * provider) and a short idle settle for background drains (audit file sink), so that work done
 * "off the call path" is charged to the batch that caused it.
 */
const { performance } = require('node:perf_hooks');

const api = require('@opentelemetry/api');

const API_KEY = 'sk-bench-0000000000000000';
const AI_SDK = process.env.BENCH_CLIENT === 'ai-sdk';
const openaiModule = AI_SDK ? undefined : require(process.env.BENCH_OPENAI_PATH || 'openai');
const client = openaiModule && new (openaiModule.OpenAI || openaiModule.default || openaiModule)({ apiKey: API_KEY, baseURL: process.env.BENCH_BASE_URL });

const SYSTEM = 'You are a concise support assistant for an online bookshop. Answer in two sentences at most, be polite, and never invent order numbers.';
const USER =
  'Hello! I ordered a paperback copy of "The Left Hand of Darkness" last Tuesday and the tracking page still says the parcel is being prepared. Can you tell me when it usually ships, and whether I can still change the delivery address?';

/**
 * Every call asks a new question under the same system prompt, as a real app does: nothing may
 * be cached on the user's text (token counts, for one), while the system prompt repeats.
 */
let seq = 0;
const SAME_QUESTION = process.env.BENCH_SAME_QUESTION === '1'; // the cache-hit row: the same call every time
function chatParams() {
  if (!SAME_QUESTION) seq++;
  return {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: `${USER} (Order ${100000 + seq}.)` },
    ],
    max_tokens: 64,
    temperature: 0.2,
  };
}

const STREAM_LONG_N = Number(process.env.BENCH_STREAM_N || 16);

/** The same call through the AI SDK: generateText on @ai-sdk/openai's chat model (Chat Completions). */
function aiSdkChat() {
  const { generateText } = require('ai');
  const model = require('@ai-sdk/openai').createOpenAI({ apiKey: API_KEY, baseURL: process.env.BENCH_BASE_URL }).chat('gpt-4o-mini');
  return async () => {
    const { messages, max_tokens, temperature } = chatParams();
    const r = await generateText({ model, system: messages[0].content, prompt: messages[1].content, maxOutputTokens: max_tokens, temperature });
    if (!r?.text) throw new Error('bench: empty AI SDK answer');
    return 1;
  };
}

const chatOnce = AI_SDK
  ? aiSdkChat()
  : async () => {
      const r = await client.chat.completions.create(chatParams());
      if (!r?.choices?.length) throw new Error('bench: empty chat completion');
      return 1;
    };

/** A streamed chat completion read to the end; returns the number of chunks the app saw. */
async function streamOnce(n) {
  if (AI_SDK) throw new Error('bench: the AI SDK rows measure non-streaming calls only');
  const stream = await client.chat.completions.create({ ...chatParams(), stream: true, n });
  let chunks = 0;
  for await (const chunk of stream) {
    if (chunk) chunks++;
  }
  return chunks;
}

/**
 * A streamed chat completion read from a full buffer: the request is sent, then the reader waits
 * `waitMs` (the simulator has written every chunk by then; they wait in the socket), and only the
 * reading is measured. Every configuration then reads the same bytes in the same large reads, so
 * the per-chunk cost is not confounded by how the chunks happened to be split across reads.
 */
async function bufferedStreamOnce(n, waitMs) {
  if (AI_SDK) throw new Error('bench: the AI SDK rows measure non-streaming calls only');
  const stream = await client.chat.completions.create({ ...chatParams(), stream: true, n });
  await settle(waitMs);
  const c = process.cpuUsage();
  const t = performance.now();
  let chunks = 0;
  for await (const chunk of stream) {
    if (chunk) chunks++;
  }
  return { chunks, wallUs: (performance.now() - t) * 1000, cpuUs: cpuMicros(process.cpuUsage(c)) };
}

async function measureBuffered(streams, n, waitMs) {
  const wall = [];
  const cpu = [];
  let units = 0;
  for (let i = 0; i < streams; i++) {
    const r = await bufferedStreamOnce(n, waitMs);
    units += r.chunks;
    wall.push(r.wallUs);
    cpu.push(r.cpuUs);
  }
  const sum = (a) => a.reduce((x, y) => x + y, 0);
  return { n: streams, units, callsWallUs: sum(wall), totalCpuUs: sum(cpu), wall, cpu };
}

function cpuMicros(delta) {
  return delta.user + delta.system;
}

/** Exports whatever spans are still queued, so the batch that made them pays for them. */
async function flushTelemetry() {
  const provider = api.trace.getTracerProvider();
  const delegate = provider && typeof provider.getDelegate === 'function' ? provider.getDelegate() : provider;
  if (delegate && typeof delegate.forceFlush === 'function') {
    try {
      await delegate.forceFlush();
    } catch {
      /* an exporter failure is not the benchmark's concern */
    }
  }
}

const settle = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sequential calls, each timed on its own; totals include the flush and settle. */
async function measureSequential(n, fn) {
  const wall = new Float64Array(n);
  const cpu = new Float64Array(n);
  let units = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    units += await fn();
    wall[i] = (performance.now() - t) * 1000;
    cpu[i] = cpuMicros(process.cpuUsage(c));
  }
  const callsWall = (performance.now() - t0) * 1000;
  await flushTelemetry();
  await settle(20);
  const totalCpu = cpuMicros(process.cpuUsage(c0));
  return { n, units, callsWallUs: callsWall, totalCpuUs: totalCpu, wall: Array.from(wall), cpu: Array.from(cpu) };
}

/** `total` calls through `concurrency` loops; calls/s from the wall time of the calls alone. */
async function measureConcurrent(total, concurrency, fn) {
  let next = 0;
  const startMonoUs = Number(process.hrtime.bigint() / 1000n);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const loop = async () => {
    while (next < total) {
      next++;
      await fn();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, loop));
  const wallUs = (performance.now() - t0) * 1000;
  const endMonoUs = Number(process.hrtime.bigint() / 1000n);
  await flushTelemetry();
  await settle(20);
  const cpuUs = cpuMicros(process.cpuUsage(c0));
  return { total, concurrency, wallUs, cpuUs, callsPerSecond: total / (wallUs / 1e6), startMonoUs, endMonoUs };
}

/**
 * heapUsed after full GCs. FinalizationRegistry callbacks (and what they release) only run in a
 * task after the GC that found their targets, so GC and yield a few times.
 */
async function heapAfterGc() {
  if (typeof global.gc !== 'function') throw new Error('bench: run with --expose-gc');
  for (let i = 0; i < 4; i++) {
    global.gc();
    await settle(10);
  }
  global.gc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, heapTotal: m.heapTotal, rss: m.rss, external: m.external };
}

async function memoryRun(checkpoints, concurrency) {
  const points = [];
  let done = 0;
  await flushTelemetry();
  await settle(50);
  points.push({ calls: 0, ...(await heapAfterGc()) });
  for (const target of checkpoints) {
    await measureConcurrent(target - done, concurrency, chatOnce);
    done = target;
    await flushTelemetry();
    await settle(100);
    points.push({ calls: done, ...(await heapAfterGc()) });
  }
  return { concurrency, points };
}

const commands = {
  async ready() {
    return { pid: process.pid, node: process.version, openai: AI_SDK ? undefined : openaiVersion(), ai: AI_SDK ? require('ai/package.json').version : undefined, execArgv: process.execArgv };
  },
  async warmup({ calls, streams }) {
    await measureConcurrent(calls, 1, chatOnce);
    if (AI_SDK) return { ok: true };
    for (let i = 0; i < streams; i++) await streamOnce(STREAM_LONG_N);
    for (let i = 0; i < streams; i++) await streamOnce(1);
    return { ok: true };
  },
  async chat({ calls, prime }) {
    if (prime) await measureConcurrent(prime, 1, chatOnce);
    return measureSequential(calls, chatOnce);
  },
  async stream({ streams, n, prime }) {
    if (prime) for (let i = 0; i < prime; i++) await streamOnce(n);
    return measureSequential(streams, () => streamOnce(n));
  },
  async bufferedStream({ streams, n, waitMs, prime }) {
    if (prime) await measureBuffered(prime, n, waitMs);
    return measureBuffered(streams, n, waitMs);
  },
  async throughput({ calls, concurrency, prime }) {
    if (prime) await measureConcurrent(prime, concurrency, chatOnce);
    return measureConcurrent(calls, concurrency, chatOnce);
  },
  async memory({ checkpoints, concurrency }) {
    return memoryRun(checkpoints, concurrency);
  },
  /** Streams read to the end, for a CPU profile: the chunks read and the time window. */
  async profileStreams({ streams, n, waitMs }) {
    const startMonoUs = Number(process.hrtime.bigint() / 1000n);
    let chunks = 0;
    for (let i = 0; i < streams; i++) chunks += (await bufferedStreamOnce(n, waitMs)).chunks;
    const endMonoUs = Number(process.hrtime.bigint() / 1000n);
    return { streams, chunks, startMonoUs, endMonoUs };
  },
  /** In a fresh process (the first command after `ready`): the app's first call, then `later` more, each timed. */
  async firstCalls({ later }) {
    const c = process.cpuUsage();
    const t = performance.now();
    await chatOnce();
    const firstUs = (performance.now() - t) * 1000;
    const firstCpuUs = cpuMicros(process.cpuUsage(c));
    const laterUs = [];
    for (let i = 0; i < later; i++) {
      const t1 = performance.now();
      await chatOnce();
      laterUs.push((performance.now() - t1) * 1000);
    }
    return { firstUs, firstCpuUs, laterUs };
  },
  async calls({ calls, concurrency }) {
    return measureConcurrent(calls, concurrency || 1, chatOnce);
  },
  async exit() {
    await flushTelemetry();
    setTimeout(() => process.exit(0), 10);
    return { ok: true };
  },
};

function openaiVersion() {
  const path = require('node:path');
  const fs = require('node:fs');
  let dir = path.dirname(require.resolve(process.env.BENCH_OPENAI_PATH || 'openai'));
  for (let i = 0; i < 5; i++, dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (!fs.existsSync(file)) continue;
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (pkg.name === 'openai') return pkg.version;
  }
  return openaiModule.VERSION;
}

process.on('message', async (msg) => {
  const { id, cmd, args } = msg || {};
  try {
    const handler = commands[cmd];
    if (!handler) throw new Error(`unknown command ${cmd}`);
    const result = await handler(args || {});
    process.send({ id, ok: true, result });
  } catch (err) {
    process.send({ id, ok: false, error: String(err?.stack || err) });
  }
});

process.on('disconnect', () => process.exit(0));
