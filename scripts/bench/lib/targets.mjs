// The targets: each { id, config?, name, target, measured, unit, pass, moonshot? }. A target
// whose figure is missing from the results (an older results.json, an --only run) is listed
// with `pass: null`: "not measured".

const label = (results, id) => results.configs.find((c) => c.id === id)?.label ?? id;
const MIB = 2 ** 20;

/** The configurations whose heap must not grow (the issue: every configuration llm-governor runs). */
const HEAP_CONFIGS = ['tm', 'mem', 'allmem', 'all'];
/** Per-chunk targets: the default preload, every guard in memory and in Redis. */
const CHUNK_CONFIGS = ['tm', 'allmem', 'all'];

/** Builds a target from a measured value (undefined or NaN: not measured) and its goals. */
function target(fields, measured, passes, moonshot) {
  const ok = Number.isFinite(measured);
  const t = { ...fields, measured: ok ? measured : undefined, pass: ok ? passes(measured) : null };
  if (moonshot) t.moonshot = { target: moonshot.target, pass: ok ? moonshot.passes(measured) : null };
  return t;
}

/** Added CPU per call of `id` as a ratio of the peer's (issue 14: side by side, in one run). */
function ratioToPeer(results, id, name, limit, moon) {
  const mine = results.chat?.[id]?.added?.cpuMedian;
  const peer = results.chat?.peer?.added?.cpuMedian;
  const figures = Number.isFinite(mine) && Number.isFinite(peer) ? ` (+${mine.toFixed(1)} µs vs the peer's +${peer.toFixed(1)} µs)` : '';
  return target(
    { id: `${id}-vs-peer`, config: id, name: `added CPU per non-streaming call, ${name}, ÷ the peer's${figures}`, target: `${limit.op} ${limit.value.toFixed(1)}×`, unit: '×' },
    peer > 0 ? mine / peer : NaN,
    (r) => (limit.op === '<' ? r < limit.value : r <= limit.value),
    { target: `≤ ${moon.toFixed(1)}×`, passes: (r) => r <= moon },
  );
}

/**
 * A row measured with another client (the AI SDK, through the wire entry) against the same
 * configuration with the openai SDK (through the SDK adapter): each its added CPU per call over
 * its own bare client; the goal is no more than the SDK adapter's.
 */
function otherClientTargets(results, add) {
  for (const c of results.configs.filter((x) => x.comparedWith)) {
    const mine = results.chat?.[c.id]?.added?.cpuMedian;
    const theirs = results.chat?.[c.comparedWith]?.added?.cpuMedian;
    const figures = Number.isFinite(mine) && Number.isFinite(theirs) ? ` (+${mine.toFixed(1)} µs over the ${label(results, c.baseline)} vs +${theirs.toFixed(1)} µs over the bare openai SDK)` : '';
    add(
      target(
        {
          id: `${c.id}-vs-${c.comparedWith}`,
          config: c.id,
          name: `added CPU per non-streaming call, ${c.label}, vs ${label(results, c.comparedWith)} through the SDK adapter${figures}`,
          target: "≤ the SDK adapter's",
          unit: 'µs',
        },
        Number.isFinite(theirs) ? mine : NaN,
        (v) => v <= theirs,
      ),
    );
  }
}

function cpuTargets(results, add) {
  const chat = results.chat ?? {};
  if (chat.tm) add(target({ id: 'tm-cpu', config: 'tm', name: 'added CPU per non-streaming call, tracing + metering', target: '≤ 30 µs', unit: 'µs' }, chat.tm.added?.cpuMedian, (v) => v <= 30));
  add(ratioToPeer(results, 'tm', 'default preload (tracing + metering)', { op: '<', value: 1 }, 0.5));
  add(ratioToPeer(results, 'allmem', 'every guard with in-memory stores', { op: '≤', value: 1.5 }, 1));
  if (chat.all) add(target({ id: 'all-cpu', config: 'all', name: 'added CPU per non-streaming call, every guard (Redis)', target: '≤ 60 µs', unit: 'µs' }, chat.all.added?.cpuMedian, (v) => v <= 60));
}

function chunkTargets(results, add) {
  const peer = results.bufferedStream?.peer?.addedPerChunk?.cpuMarginal;
  for (const id of CHUNK_CONFIGS) {
    const s = results.bufferedStream?.[id]?.addedPerChunk;
    const extra = [s ? `naive ${s.cpuNaive.toFixed(2)} µs` : '', Number.isFinite(peer) ? `the peer's ${peer.toFixed(2)} µs` : ''].filter(Boolean).join('; ');
    add(
      target(
        { id: `${id}-chunk`, config: id, name: `added CPU per streamed chunk, ${label(results, id)} (read from a full buffer, marginal${extra ? `; ${extra}` : ''})`, target: '≤ 1 µs', unit: 'µs' },
        s?.cpuMarginal,
        (v) => v <= 1,
        { target: '≤ 0.5 µs', passes: (v) => v <= 0.5 },
      ),
    );
  }
}

function heapTargets(results, add) {
  const memory = results.memory ?? {};
  const ids = [...new Set([...HEAP_CONFIGS, ...Object.keys(memory)])].filter((id) => id !== 'bare' && id !== 'peer');
  for (const id of ids) {
    const m = memory[id];
    // "No growth": the heap left after forced GCs grows by less than 1 MiB over the second half
    // of the run (fitted over its checkpoints; at 50k calls, under ~21 bytes a call).
    const span = m
      ? `, ${m.lateFrom / 1000}k → ${m.growthTo / 1000}k calls, fitted (${label(results, id)}; over ${m.growthFrom / 1000}k → ${m.growthTo / 1000}k: ${(m.fittedGrowth / MIB).toFixed(2)} MiB)`
      : ` (${label(results, id)})`;
    add(target({ id: `${id}-heap`, config: id, name: `heap growth after GC, second half of the run${span}`, target: '< 1 MiB (no growth)', unit: 'bytes' }, m?.lateFittedGrowth, (v) => v < MIB));
  }
}

/** Round trips per call, the periodic refreshes aside (older results: the budget gauges' refresh taken off). */
const withoutPeriodic = (r) => r.perCallExcludingPeriodic ?? r.roundTripsPerCall - (r.byCommand['EVALSHA budget states'] ?? 0);

function redisTargets(results, add) {
  const near = (v, want) => Math.abs(v - want) < 0.005;
  const r = results.redis?.redis;
  if (r) {
    add(
      target({ id: 'redis-reserve', name: 'Redis round trips per call for the budget reservation', target: 'exactly 1', unit: 'per call' }, r.byCommand['EVALSHA budget reserve'] ?? 0, (v) =>
        near(v, 1),
      ),
    );
    // After the answer, its real cost must be committed: one more round trip, and no other.
    add(
      target(
        {
          id: 'redis-total',
          name: "Redis round trips per call with Redis budgets, all commands: the reservation before the call, the settle (commit of the real cost) after (the gauges' 10 s refresh aside)",
          target: 'exactly 2 (1 + 1)',
          unit: 'per call',
        },
        withoutPeriodic(r),
        (v) => near(v, 2),
      ),
    );
  }
  const all = results.redis?.all;
  add(
    target(
      {
        id: 'all-redis-total',
        config: 'all',
        name: "Redis round trips per call with every guard on Redis, every command the app's process sends (periodic refreshes aside; by command: the Redis table)",
        target: 'exactly 2',
        unit: 'per call',
      },
      all && withoutPeriodic(all),
      (v) => near(v, 2),
    ),
  );
  add(
    target(
      {
        id: 'all-redis-connections',
        config: 'all',
        name: "Redis connections the app's process holds with every guard on Redis (CLIENT LIST, during the calls)",
        target: 'exactly 1',
        unit: 'connections',
      },
      all?.connections?.app,
      (v) => v === 1,
    ),
  );
}

function startupTargets(results, add) {
  const st = results.startup?.variants;
  const peer = st?.peer;
  // Judged against the peer's figures of the same run: without them, not measured.
  const def = peer ? st?.default : undefined;
  add(
    target(
      {
        id: 'startup-wall',
        name: `start-up wall time, \`node --require dist/register.js -e "require('openai')"\`, default config${peer ? ` (the peer's: ${peer.wallMs.median.toFixed(0)} ms)` : ''}`,
        target: "≤ the peer's",
        unit: 'ms',
      },
      def?.wallMs.median,
      (v) => v <= peer.wallMs.median,
    ),
  );
  add(
    target(
      { id: 'startup-rss', name: `peak RSS of the same process${peer ? ` (the peer's: ${(peer.maxRssBytes.median / MIB).toFixed(1)} MiB)` : ''}`, target: "≤ the peer's + 16 MiB", unit: 'bytes' },
      def?.maxRssBytes.median,
      (v) => v <= peer.maxRssBytes.median + 16 * MIB,
    ),
  );
  const fc = results.firstCall;
  add(
    target(
      {
        id: 'first-call',
        name: `first call in a fresh process, budgets + a TPM limit, minus the bare SDK's first call${fc ? ` (later calls: ${fc.addedLaterMs.toFixed(2)} ms)` : ''}`,
        target: '≤ 20 ms',
        unit: 'ms',
      },
      fc?.addedFirstMs,
      (v) => v <= 20,
    ),
  );
}

export function evaluateTargets(results) {
  const t = [];
  const add = (entry) => t.push(entry);
  cpuTargets(results, add);
  otherClientTargets(results, add);
  chunkTargets(results, add);
  heapTargets(results, add);
  redisTargets(results, add);
  startupTargets(results, add);
  return t;
}
