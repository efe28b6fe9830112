#!/usr/bin/env node
// `npm run bench`: the overhead benchmark. See BENCHMARKS.md ("Method") for what it measures.
//
//   node scripts/bench/run.mjs            full run (~14 minutes): bench/results.json, bench/overhead.svg, BENCHMARKS.md
//   node scripts/bench/run.mjs --quick    ~2-3 minutes, smaller samples: bench/quick/ only (BENCHMARKS.md untouched)
//   options: --profile (always profile), --no-profile, --only=bare,tm,...  (bare is always included, and
//            each row's own bare client; a group's name stands for its rows: --only=ai-sdk),
//            --phases=chat,streams,throughput,redis,memory,startup,profiles (only those; warm-up always),
//            --profile-only (no measurements: profile the bare SDK and the configurations, print where
//            the added time goes), --keep-profiles=<dir> (keep the .cpuprofile files, for DevTools),
//            --render (no measurements: the report again from bench/results.json), --pin (taskset: app and harness on separate cores)
//   A run with --only or --phases is partial: like --quick, it writes bench/quick/ only.
//   The AI SDK row alone, side by side with the SDK adapter's: node scripts/bench/run.mjs --only=ai-sdk --phases=chat
//
// The phases, in this order: warm-up; interleaved repetitions (non-streaming calls, streams);
// throughput; Redis round trips and connections (lib/redis-count.mjs); heap over a long run;
// start-up and footprint, and the first call, in fresh processes (lib/startup.mjs); profiles of
// the configurations that missed a target (lib/profile-run.mjs). Targets: lib/targets.mjs;
// the report: report.mjs.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os, { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baselineOf, buildConfigs, cleanEnv, CONFIG_GROUPS, CONFIG_IDS, STARTUP_IDS, startupVariants } from './configs.mjs';
import { busyShare, findRedisServer, freePort, machineInfo, startOtlpReceiver, startRedis, versions } from './lib/env.mjs';
import { runProfiles } from './lib/profile-run.mjs';
import { countRedis } from './lib/redis-count.mjs';
import { benchSettings, PHASES, parseArgs } from './lib/settings.mjs';
import { measureFirstCall, measureStartup } from './lib/startup.mjs';
import { summarizeMemory } from './lib/stats.mjs';
import { summarizeChat, summarizeStreams, summarizeThroughput } from './lib/summaries.mjs';
import { evaluateTargets } from './lib/targets.mjs';
import { pin, pinning, rotated, Worker } from './lib/worker-process.mjs';
import { printReport, writeOutputs } from './report.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');
const require = createRequire(import.meta.url);

const args = parseArgs(process.argv.slice(2));
const SETTINGS = benchSettings(args.quick);
const PIN = pinning(args.pin);
/** A run of some rows or some phases: its figures never replace the repository's (bench/results.json, BENCHMARKS.md). */
const PARTIAL = !!args.only || args.phases.size < PHASES.length;

/** Configurations measured only for the non-streaming figure (the cache-hit row, the AI SDK rows). */
const chatOnly = (workers, id) => workers.get(id).config.chatOnly === true;
/** Reference rows left out of the throughput runs. */
const NO_THROUGHPUT = new Set(['otel']);
/** The configurations that use Redis: round trips and connections counted. */
const REDIS_CONFIGS = ['redis', 'all', 'cache'];

const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);

// ── the phases ────────────────────────────────────────────────────────────────────────────────

/** Non-streaming calls and streams, interleaved: each repetition visits every configuration. */
async function repetitions(results, workers, otlp) {
  const measured = args.phases.has('chat') ? [...workers.keys()] : [];
  const streamed = args.phases.has('streams') ? [...workers.keys()].filter((id) => !chatOnly(workers, id)) : [];
  const raw = { chat: {}, long: {}, short: {}, bufLong: {}, bufShort: {} };
  for (const id of measured) raw.chat[id] = [];
  for (const id of streamed) for (const k of ['long', 'short', 'bufLong', 'bufShort']) raw[k][id] = [];
  const buf = SETTINGS.buffered;
  for (let r = 0; r < SETTINGS.reps; r++) {
    const t0 = Date.now();
    for (const id of rotated([...workers.keys()], r)) {
      const w = workers.get(id);
      if (measured.includes(id)) {
        const before = otlp.snapshot(id);
        raw.chat[id].push(await w.call('chat', SETTINGS.chat));
        const after = otlp.snapshot(id);
        (results.otlp[id] ??= []).push({ calls: SETTINGS.chat.calls, requests: after.requests - before.requests, bytes: after.bytes - before.bytes });
      }
      if (!streamed.includes(id)) continue;
      raw.long[id].push(await w.call('stream', { ...SETTINGS.stream.long, prime: SETTINGS.stream.prime }));
      raw.short[id].push(await w.call('stream', { ...SETTINGS.stream.short, prime: SETTINGS.stream.prime }));
      raw.bufLong[id].push(await w.call('bufferedStream', { ...buf.long, waitMs: buf.waitMs, prime: buf.prime }));
      raw.bufShort[id].push(await w.call('bufferedStream', { ...buf.short, waitMs: buf.waitMs, prime: buf.prime }));
    }
    log(`repetition ${r + 1}/${SETTINGS.reps} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  results.chat = summarizeChat(raw.chat, Object.fromEntries(measured.map((id) => [id, baselineOf(workers.get(id).config)])));
  results.stream = summarizeStreams(raw.long, raw.short, SETTINGS.stream);
  results.bufferedStream = summarizeStreams(raw.bufLong, raw.bufShort, SETTINGS.buffered);
}

/** Throughput at each concurrency, interleaved the same way. */
async function throughput(results, workers) {
  const loaded = [...workers.keys()].filter((id) => !chatOnly(workers, id) && !NO_THROUGHPUT.has(id));
  const tp = {};
  for (const conc of SETTINGS.throughput.concurrency) {
    for (let r = 0; r < SETTINGS.throughput.reps; r++) {
      for (const id of rotated(loaded, r)) {
        const res = await workers.get(id).call('throughput', { calls: SETTINGS.throughput.calls, concurrency: conc, prime: SETTINGS.throughput.prime });
        ((tp[id] ??= {})[conc] ??= []).push(res);
      }
    }
    log(`throughput at concurrency ${conc} done`);
  }
  results.throughput = summarizeThroughput(tp);
}

/** Redis commands per call and connections held, for the configurations that use Redis. */
async function redisCounts(results, workers, redis, Redis) {
  for (const id of REDIS_CONFIGS.filter((x) => workers.has(x))) {
    const r = await countRedis({ redis, worker: workers.get(id), calls: SETTINGS.redis.calls, Redis, repoRoot });
    results.redis[id] = r;
    log(
      `redis: ${id}: ${r.roundTripsPerCall.toFixed(3)} commands per call (${r.perCallExcludingPeriodic.toFixed(3)} without periodic refreshes), ${r.connections.app ?? '?'} connection(s) held by the app (CLIENT LIST)`,
    );
  }
}

/**
 * Heap after forced GC at each checkpoint. Heap figures do not depend on CPU contention, so these
 * configurations run at the same time; the others are closed first.
 */
async function memory(results, workers) {
  const memIds = SETTINGS.memory.configs.filter((x) => workers.has(x));
  for (const [id, w] of workers) if (!memIds.includes(id)) await w.close();
  const runs = await Promise.all(memIds.map((id) => workers.get(id).call('memory', SETTINGS.memory)));
  memIds.forEach((id, i) => {
    results.memory[id] = summarizeMemory(runs[i]);
  });
  log(`memory: ${memIds.join(', ')} done`);
}

/** Start-up and footprint, then the first call: fresh processes, nothing else running. */
async function startup(results, variants) {
  if (!variants.some((v) => v.id === 'default')) return;
  try {
    await startupAndFirstCall(results, variants);
  } catch (err) {
    // Not worth the run's other figures: reported, and what is missing reads "not measured".
    results.notes.push(`start-up and first call not measured: ${String(err?.message ?? err).slice(0, 1000)}`);
    log(`start-up failed: ${err?.message ?? err}`);
  }
}

async function startupAndFirstCall(results, variants) {
  results.startup = await measureStartup(variants, SETTINGS.startup.runs);
  results.notes.push(...results.startup.notes);
  delete results.startup.notes;
  for (const [id, v] of Object.entries(results.startup.variants)) log(`start-up: ${id}: ${v.wallMs.median.toFixed(0)} ms, peak RSS ${(v.maxRssBytes.median / 2 ** 20).toFixed(1)} MiB`);
  const bare = variants.find((v) => v.id === 'bare');
  const app = variants.find((v) => v.id === 'budgets');
  results.firstCall = await measureFirstCall({ bare, app, runs: SETTINGS.firstCall.runs, later: SETTINGS.firstCall.later, pinTo: PIN?.app });
  log(`first call: +${results.firstCall.addedFirstMs.toFixed(1)} ms over the bare SDK's (later calls +${results.firstCall.addedLaterMs.toFixed(2)} ms)`);
}

// ── main ──────────────────────────────────────────────────────────────────────────────────────

/** `--render`: print and write the report again from bench/results.json (targets re-evaluated), without measuring. */
function render() {
  const results = JSON.parse(readFileSync(join(repoRoot, 'bench', 'results.json'), 'utf8'));
  results.targets = evaluateTargets(results);
  printReport(results);
  log(`wrote ${writeOutputs(results, { repoRoot, quick: false }).join(', ')}`);
}

function newResults(configs, tmp, redisBinary) {
  return {
    generatedAt: new Date().toISOString(),
    mode: SETTINGS.mode,
    settings: SETTINGS,
    machine: machineInfo(),
    versions: versions(repoRoot, redisBinary),
    configs: configs.map(({ id, label, description, execArgv, env, ...c }) => ({
      id,
      label,
      description,
      client: c.client ?? 'openai',
      baseline: baselineOf(c),
      ...(c.comparedWith ? { comparedWith: c.comparedWith } : {}),
      preload: execArgv.filter((a) => a !== '--require').map((a) => a.replace(`${repoRoot}/`, '')),
      env: Object.fromEntries(
        Object.entries(env)
          .filter(([k]) => /^(LLM_GOVERNOR_|OTEL_)/.test(k))
          .map(([k, v]) => [k, v.replace(tmp, '$TMP')]),
      ),
    })),
    chat: {},
    stream: {},
    throughput: {},
    memory: {},
    redis: {},
    profiles: {},
    otlp: {},
    notes: [],
    phases: {},
    loadAverage: { start: os.loadavg() },
    pinning: PIN ?? null,
    ...(PARTIAL ? { partial: { only: args.only ? [...args.only] : undefined, phases: [...args.phases] } } : {}),
  };
}

/** Every phase but the profiles; `phase(name, fn)` times each into results.phases. */
async function measure(results, { configs, variants, workers, otlp, redis, Redis }) {
  const phase = async (name, fn) => {
    if (name !== 'warmup' && name !== 'repetitions' && !args.phases.has(name)) return;
    const t0 = Date.now();
    await fn();
    results.phases[name] = Math.round((Date.now() - t0) / 100) / 10;
  };
  // Start every configuration and warm them up (at the same time: nothing is measured yet).
  for (const c of configs) workers.set(c.id, new Worker(c, { pinTo: PIN?.app }));
  for (const [id, w] of workers) {
    const info = await w.call('ready');
    log(`${id}: pid ${info.pid}, ${info.ai ? `ai ${info.ai}` : `openai ${info.openai}`}`);
  }
  await phase('warmup', () => Promise.all([...workers.values()].map((w) => w.call('warmup', SETTINGS.warmup))));
  log(`warm-up (${SETTINGS.warmup.calls} calls each) done in ${results.phases.warmup} s`);
  if (args.phases.has('chat') || args.phases.has('streams')) await phase('repetitions', () => repetitions(results, workers, otlp));
  await phase('throughput', () => throughput(results, workers));
  await phase('redis', () => redisCounts(results, workers, redis, Redis));
  await phase('memory', () => memory(results, workers));
  for (const [id, w] of workers) {
    await w.close();
    if (w.stderr.trim()) results.notes.push(`${id} wrote to stderr: ${w.stderr.trim().slice(0, 2000)}`);
  }
  workers.clear();
  await phase('startup', () => startup(results, variants));
}

/** The configurations to profile: those whose targets were missed (or all of them with --profile), with the peer. */
function profileIds(results, configs) {
  const missed = new Set(results.targets.filter((t) => t.pass === false && t.config).map((t) => t.config));
  const has = (id) => configs.some((c) => c.id === id);
  const ids = SETTINGS.profile.configs.filter((id) => id !== 'peer' && has(id) && (args.profileMode === 'always' || (args.profileMode === 'on-miss' && missed.has(id))));
  if (ids.length && has('peer')) ids.unshift('peer');
  return ids;
}

async function main() {
  if (args.render) return render();
  const started = Date.now();
  if (!existsSync(join(repoRoot, 'dist', 'register.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm run bench does)');
  const redisBinary = findRedisServer();
  if (!redisBinary) throw new Error('redis-server not found on PATH (Debian: apt-get install redis-server)');
  let peerAvailable = true;
  try {
    require.resolve('@opentelemetry/instrumentation-openai', { paths: [repoRoot] });
  } catch {
    peerAvailable = false;
    log('@opentelemetry/instrumentation-openai is not installed: the peer is skipped (npm install)');
  }
  // Pinned before the simulator and redis-server start, so that they inherit the harness's core.
  if (PIN) pin(process.pid, PIN.harness);
  const tmp = mkdtempSync(join(tmpdir(), 'llm-governor-bench-'));
  const { startSimulator } = require(join(repoRoot, 'dist', 'simulator', 'index.js'));
  const RedisModule = require(require.resolve('ioredis', { paths: [repoRoot] }));
  const Redis = RedisModule.Redis ?? RedisModule.default ?? RedisModule;

  const sim = await startSimulator({ latencyMs: 0, chunkDelayMs: 0, seed: 7 });
  // The simulator records every request; forget them regularly so its memory stays flat.
  const resetTimer = setInterval(() => {
    sim.reset();
  }, 1_000);
  const otlp = await startOtlpReceiver();
  const redis = await startRedis(redisBinary, tmp, Redis);
  log(`simulator ${sim.url}, OTLP receiver ${otlp.url}, redis-server ${redis.url}; tmp ${tmp}`);

  const ports = {};
  for (const id of [...CONFIG_IDS, ...STARTUP_IDS]) ports[id] = await freePort();
  const ctx = { repoRoot, tmp, otlpUrl: otlp.url, ports, redisUrl: redis.url, xaiBaseURL: sim.xaiBaseURL, peerAvailable };
  let configs = buildConfigs(ctx);
  if (args.only) {
    const wanted = new Set([...args.only].flatMap((id) => CONFIG_GROUPS[id] ?? [id]));
    const chosen = configs.filter((c) => wanted.has(c.id));
    // Each row is measured against its own bare client: that one runs too.
    configs = configs.filter((c) => wanted.has(c.id) || chosen.some((x) => baselineOf(x) === c.id));
  }
  // Start-up: measured when the default preload is (tm in the run); the peer's when it is in it.
  const variants = args.phases.has('startup') && configs.some((c) => c.id === 'tm') ? startupVariants(ctx).filter((v) => v.id !== 'peer' || configs.some((c) => c.id === 'peer')) : [];
  // Each worker gets the shell's environment minus anything that would configure telemetry, the
  // preload or a provider, then its own configuration's.
  for (const c of [...configs, ...variants]) c.env = { ...cleanEnv(), ...c.env, BENCH_BASE_URL: sim.openaiBaseURL, BENCH_STREAM_N: String(SETTINGS.stream.long.n) };

  const results = newResults(configs, tmp, redisBinary);
  // Is anything else using the CPU? (Our own processes are idle at this point.)
  results.busyBeforeStart = await busyShare(1000);
  if (results.busyBeforeStart > 0.1)
    results.notes.push(`other processes kept ${(results.busyBeforeStart * 100).toFixed(0)}% of the CPU busy just before the run: they share the machine with the benchmark`);

  const workers = new Map();
  const profiling = { configs, settings: SETTINGS, tmp, repoRoot, keepProfiles: args.keepProfiles, pinTo: PIN?.app };
  try {
    if (args.profileOnly) {
      results.targets = [];
      await runProfiles(results, profiling, args.only ? [...args.only].filter((id) => id !== 'bare') : SETTINGS.profile.configs.filter((id) => configs.some((c) => c.id === id)));
      printReport(results, { profilesOnly: true });
      return;
    }
    await measure(results, { configs, variants, workers, otlp, redis, Redis });
    results.targets = evaluateTargets(results);
    if (args.phases.has('profiles')) {
      const t0 = Date.now();
      await runProfiles(results, profiling, profileIds(results, configs));
      results.phases.profiles = Math.round((Date.now() - t0) / 100) / 10;
    }
  } finally {
    for (const w of workers.values()) w.child.kill('SIGKILL');
    clearInterval(resetTimer);
    await sim.close();
    await otlp.close();
    await redis.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  results.durationSeconds = (Date.now() - started) / 1000;
  results.loadAverage.end = os.loadavg();
  printReport(results);
  const written = writeOutputs(results, { repoRoot, quick: args.quick || PARTIAL });
  log(`wrote ${written.join(', ')} in ${results.durationSeconds.toFixed(0)} s`);
}

main().catch((err) => {
  process.stderr.write(`[bench] failed: ${err?.stack ?? err}\n`);
  process.exit(1);
});
