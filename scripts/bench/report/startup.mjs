// The start-up and first-call sections: fresh processes (lib/startup.mjs), as tables.
import { fmt, fmtSigned } from '../lib/stats.mjs';
import { NOT_MEASURED } from './tables.mjs';

const MIB = 2 ** 20;
const mib = (b) => fmt(b / MIB, 1);
const range = (s, f) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
const ms0 = (v) => fmt(v, 0);

/** Start-up and footprint: one row per variant; undefined when not measured. */
export function startupTable(results) {
  const st = results.startup;
  if (!st?.variants) return undefined;
  const bare = st.variants.bare;
  return {
    head: ['process', 'preload', 'wall ms, median (min–max)', '+wall vs bare', 'peak RSS MiB, median (min–max)', '+RSS vs bare', 'preloads loaded at ms', 'exit at ms'],
    rows: Object.entries(st.variants).map(([id, v]) => [
      v.label,
      v.preload.length ? v.preload.map((p) => `--require ${p}`).join(' ') : '—',
      range(v.wallMs, ms0),
      id === 'bare' ? '—' : fmtSigned(v.wallMs.median - bare.wallMs.median, 0),
      range(v.maxRssBytes, mib),
      id === 'bare' ? '—' : fmtSigned((v.maxRssBytes.median - bare.maxRssBytes.median) / MIB, 1),
      ms0(v.preloadedMs),
      ms0(v.exitMs),
    ]),
    align: ['l', 'l'],
  };
}

/** The first call in a fresh process, and the later ones, against the bare SDK's. */
export function firstCallTable(results) {
  const fc = results.firstCall;
  if (!fc) return undefined;
  const row = (name, s, added) => [name, range(s.firstMs, (v) => fmt(v, 1)), fmt(s.firstCpuMs, 1), fmt(s.laterMs, 2), added];
  return {
    head: ['process', 'first call wall ms, median (min–max)', 'first call CPU ms', 'later calls wall ms', 'added: first / later'],
    rows: [row('bare openai SDK', fc.bare, '—'), row(fc.label, fc.app, `${fmtSigned(fc.addedFirstMs, 1)} ms / ${fmtSigned(fc.addedLaterMs, 2)} ms`)],
    align: ['l'],
  };
}

/** One-line summaries for the console, or "not measured". */
export function startupTitles(results) {
  const st = results.startup;
  const fc = results.firstCall;
  return {
    startup: st
      ? `Start-up and footprint (${st.runs} fresh processes each, interleaved: node [--require <preload>] -e "${st.script}"; wall from spawn to exit in the parent, peak RSS from process.resourceUsage().maxRSS at exit)`
      : `Start-up and footprint: ${NOT_MEASURED}`,
    firstCall: fc ? `First call (${fc.runs} fresh processes each, interleaved; the first chat.completions.create, then ${fc.later} more)` : `First call: ${NOT_MEASURED}`,
  };
}

/** The Markdown paragraphs before each table. */
export function startupIntro(results) {
  const st = results.startup;
  const fc = results.firstCall;
  return {
    startup: st
      ? `${st.runs} fresh processes per variant, one at a time and interleaved (the order rotates each round), after every other measurement, while no configuration runs: \`node [--require <preload>] --require scripts/bench/startup-probe.cjs -e "${st.script}"\`. ` +
        "Wall time is taken in the harness from `spawn` to the child's exit; peak RSS is `process.resourceUsage().maxRSS` printed by the probe in its `exit` handler (the probe is required last, after the preload, so that it changes nothing the preload does; its own cost is in every row, the bare one too). " +
        '"preloads loaded at" and "exit at" are the probe\'s clock (`performance.now()`, ms since the process started): the first when every `--require` before it had run, the second at exit. ' +
        "The peer is `scripts/bench/peer-setup.cjs` (the NodeSDK the benchmark's peer runs in); the default config sets no llm-governor variable at all (breaker on, audit trail to the OpenTelemetry logs API, whose exporter is off); budgets + a TPM limit adds `LLM_GOVERNOR_DAILY_BUDGET_USD=5000` and `LLM_GOVERNOR_RATE_LIMIT_TPM` (in-memory stores). Every variant gets the same telemetry environment (OTLP traces to the harness's receiver, a Prometheus port)."
      : NOT_MEASURED,
    firstCall: fc
      ? `${fc.runs} fresh worker processes each for the bare SDK and for ${fc.label}, interleaved: the worker (\`scripts/bench/worker.cjs\`) loads openai and makes its client, then, on the harness's first command, times its first \`chat.completions.create\` against the simulator (already warm: it served every run before) and ${fc.later} more calls. ` +
        "Added = the app's first call minus the bare SDK's first call of the same round (median over rounds): what the preload defers to the first call (lazy loads, first-use caches, the first span and metric records), on top of what any first call pays (undici's first connection, the SDK's lazy parts). The tokenizer and price table, which the preload loads in a `setImmediate` at start-up, are loaded by then: the harness's first command reaches the worker after its start-up turn of the event loop, as an app's first call would after its own start-up. The later calls' figure (per process the median of its later calls) is the steady state for contrast."
      : NOT_MEASURED,
  };
}
