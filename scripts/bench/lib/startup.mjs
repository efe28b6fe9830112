// Start-up and footprint, and the first call: fresh processes, one after another, the
// variants interleaved (the order rotates each round), while no other configuration runs.
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, paired } from './stats.mjs';
import { rotated, Worker } from './worker-process.mjs';

const benchDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(benchDir, '..', '..');
const PROBE = join(benchDir, 'startup-probe.cjs');
const MARK = '@@bench-startup ';
/** What every start-up process runs, after its preloads. */
export const STARTUP_SCRIPT = "require('openai')";

const spread = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs });

/** One `node [preload] --require startup-probe.cjs -e "require('openai')"`: wall time from spawn to exit. */
function startOnce(variant) {
  return new Promise((done, fail) => {
    const t0 = process.hrtime.bigint();
    let t1;
    let out = '';
    let err = '';
    const child = spawn(process.execPath, [...variant.execArgv, '--require', PROBE, '-e', STARTUP_SCRIPT], { cwd: repoRoot, env: variant.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('exit', () => (t1 = process.hrtime.bigint()));
    child.once('error', fail);
    child.once('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(MARK));
      if (code !== 0 || !line) return fail(new Error(`start-up ${variant.id}: exit ${code}, no report\n${err.slice(0, 2000)}`));
      const report = JSON.parse(line.slice(MARK.length));
      done({ wallMs: Number(t1 - t0) / 1e6, maxRssBytes: report.maxRssKiB * 1024, preloadedMs: report.preloadedMs, exitMs: report.exitMs, stderr: err.trim() });
    });
  });
}

/** variants: [{ id, label, execArgv, env }], the first the bare reference. */
export async function measureStartup(variants, runs) {
  const raw = Object.fromEntries(variants.map((v) => [v.id, []]));
  const notes = new Set();
  for (let r = 0; r < runs; r++) {
    for (const v of rotated(variants, r)) {
      const res = await startOnce(v);
      if (res.stderr) notes.add(`start-up ${v.id} wrote to stderr: ${res.stderr.slice(0, 500)}`);
      raw[v.id].push(res);
    }
  }
  const out = { runs, script: STARTUP_SCRIPT, variants: {}, notes: [...notes] };
  for (const v of variants) {
    const list = raw[v.id];
    out.variants[v.id] = {
      label: v.label,
      preload: v.execArgv.filter((a) => a !== '--require').map((a) => a.replace(`${repoRoot}/`, '')),
      wallMs: spread(list.map((x) => x.wallMs)),
      maxRssBytes: spread(list.map((x) => x.maxRssBytes)),
      // ms since the process started: when the preloads were loaded, and at exit (the probe's clock).
      preloadedMs: median(list.map((x) => x.preloadedMs)),
      exitMs: median(list.map((x) => x.exitMs)),
    };
  }
  return out;
}

/**
 * The first `chat.completions.create` of a fresh worker process (scripts/bench/worker.cjs,
 * command `firstCalls`), then `later` more, for the configuration `app` and the bare SDK `bare`,
 * interleaved; added = the app's minus the bare SDK's of the same round, then the median.
 */
export async function measureFirstCall({ bare, app, runs, later, pinTo }) {
  const raw = { [bare.id]: [], [app.id]: [] };
  for (let r = 0; r < runs; r++) {
    for (const c of rotated([bare, app], r)) {
      const w = new Worker(c, { pinTo });
      try {
        await w.call('ready');
        raw[c.id].push(await w.call('firstCalls', { later }));
      } finally {
        await w.close();
      }
    }
  }
  const summary = (list) => ({
    firstMs: spread(list.map((x) => x.firstUs / 1000)),
    firstCpuMs: median(list.map((x) => x.firstCpuUs / 1000)),
    // Per process, the median of its later calls; then the median over processes.
    laterMs: median(list.map((x) => median(x.laterUs) / 1000)),
  });
  const a = summary(raw[app.id]);
  const b = summary(raw[bare.id]);
  const firstOf = (id) => raw[id].map((x) => x.firstUs / 1000);
  const laterOf = (id) => raw[id].map((x) => median(x.laterUs) / 1000);
  return {
    runs,
    later,
    config: app.id,
    label: app.label,
    app: a,
    bare: b,
    addedFirstMs: median(paired(firstOf(app.id), firstOf(bare.id))),
    addedLaterMs: median(paired(laterOf(app.id), laterOf(bare.id))),
  };
}
