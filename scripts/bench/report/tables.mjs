// The report's tables, each built once as { head, rows, align } from results.json and rendered
// either as text (the console) or as Markdown (BENCHMARKS.md).
import { fmt, fmtBytes, fmtSigned } from '../lib/stats.mjs';

export const label = (results, id) => results.configs.find((c) => c.id === id)?.label ?? id;
const ratio = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '—');
/** Is `id` a reference row, a bare client the others are compared with (results.json before the AI SDK rows: `bare` alone)? */
export const isReference = (results, id) => (results.configs.find((c) => c.id === id)?.baseline ?? 'bare') === id;
/** A figure against the bare client: nothing to show on a bare client's own row. */
const vsBare = (results, id, text) => (isReference(results, id) ? '—' : text);
export const NOT_MEASURED = 'not measured';
/** Chunks per stream: a mean over the batch, whole in most runs. */
const count = (v) => (Number.isInteger(v) ? String(v) : fmt(v, 1));

export function textTable({ head, rows, align }) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (align?.[i] === 'l' ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function mdTable({ head, rows, align }) {
  const sep = head.map((_, i) => (align?.[i] === 'l' ? '---' : '---:'));
  return [head, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export const chatTable = (results) => ({
  head: ['configuration', 'CPU µs/call', '+CPU median', '+CPU p99', 'CPU ratio', 'wall µs/call', '+wall median', '+wall p99', 'wall ratio'],
  rows: Object.entries(results.chat).map(([id, s]) => [
    label(results, id),
    fmt(s.cpuPerCall.median),
    vsBare(results, id, fmtSigned(s.added?.cpuMedian)),
    vsBare(results, id, fmtSigned(s.added?.cpuP99)),
    vsBare(results, id, ratio(s.ratio?.cpu)),
    fmt(s.wallPerCall.median),
    vsBare(results, id, fmtSigned(s.added?.wallMedian)),
    vsBare(results, id, fmtSigned(s.added?.wallP99)),
    vsBare(results, id, ratio(s.ratio?.wall)),
  ]),
  align: ['l'],
});

export const streamTable = (results, section) => ({
  head: ['configuration', 'chunks long / short', 'CPU µs/long stream', '+CPU/chunk marginal', '+CPU/chunk naive', '+wall/chunk marginal', '+wall/chunk naive', '+CPU/short stream'],
  rows: Object.entries(section ?? {}).map(([id, s]) => [
    label(results, id),
    `${count(s.long.chunks)} / ${count(s.short.chunks)}`,
    fmt(s.long.cpuPerStream),
    vsBare(results, id, fmtSigned(s.addedPerChunk?.cpuMarginal, 3)),
    vsBare(results, id, fmtSigned(s.addedPerChunk?.cpuNaive, 3)),
    vsBare(results, id, fmtSigned(s.addedPerChunk?.wallMarginal, 3)),
    vsBare(results, id, fmtSigned(s.addedPerChunk?.wallNaive, 3)),
    vsBare(results, id, fmtSigned(s.addedPerStream?.cpuShort)),
  ]),
  align: ['l'],
});

export function throughputTable(results) {
  const concs = results.settings.throughput.concurrency;
  return {
    head: ['configuration', ...concs.flatMap((c) => [`calls/s c=${c}`, 'ratio', 'CPU µs/call'])],
    rows: Object.entries(results.throughput).map(([id, s]) => [
      label(results, id),
      ...concs.flatMap((c) => [fmt(s[c]?.callsPerSecond, 0), vsBare(results, id, ratio(s[c]?.ratio)), fmt(s[c]?.cpuPerCall)]),
    ]),
    align: ['l'],
  };
}

export function memoryTable(results) {
  const cps = results.settings.memory.checkpoints;
  const span = `${cps[0] / 1000}k→${cps.at(-1) / 1000}k`;
  return {
    head: ['configuration', 'heap at start', ...cps.map((c) => `heap at ${c / 1000}k`), `growth ${span}`, `fitted growth ${span}`, 'fitted per call', 'fitted growth, second half', 'rss at end'],
    rows: Object.entries(results.memory).map(([id, m]) => [
      label(results, id),
      fmtBytes(m.atStart),
      ...cps.map((c) => fmtBytes(m.points.find((p) => p.calls === c)?.heapUsed)),
      fmtBytes(m.growth),
      fmtBytes(m.fittedGrowth),
      `${fmt(m.bytesPerCall, 2)} B`,
      m.lateFittedGrowth === undefined ? '—' : fmtBytes(m.lateFittedGrowth),
      fmtBytes(m.points[m.points.length - 1].rss),
    ]),
    align: ['l'],
  };
}

export const redisTable = (results) => ({
  head: ['configuration', 'round trips/call', 'periodic refreshes aside', 'commands per call', 'commands run inside scripts/call', 'connections held (CLIENT LIST)', 'connections used (MONITOR)'],
  rows: Object.entries(results.redis).map(([id, r]) => [
    label(results, id),
    fmt(r.roundTripsPerCall, 3),
    r.perCallExcludingPeriodic === undefined ? NOT_MEASURED : fmt(r.perCallExcludingPeriodic, 3),
    Object.entries(r.byCommand)
      .map(([k, v]) => `${k} ${fmt(v, 3)}`)
      .join('; '),
    fmt(r.commandsInsideScriptsPerCall, 2),
    r.connections?.app ?? NOT_MEASURED,
    r.connections?.usedDuringCalls ?? NOT_MEASURED,
  ]),
  align: ['l', 'r', 'r', 'l'],
});

function measuredText(t) {
  if (t.pass === null || t.measured === undefined) return '—';
  if (t.unit === 'bytes') return fmtBytes(t.measured);
  if (t.unit === '×') return `${fmt(t.measured, 2)}×`;
  if (t.unit === 'connections') return String(t.measured);
  return `${fmt(t.measured, t.unit === 'per call' ? 3 : undefined)} ${t.unit}`;
}

/** result: PASS / MISS / not measured; with a moonshot, whether it was met too. */
function resultText(t, { pass, miss }) {
  if (t.pass === null) return NOT_MEASURED;
  const main = t.pass ? pass : miss;
  if (!t.moonshot) return main;
  return `${main} (moonshot ${t.moonshot.pass ? 'met' : 'not met'})`;
}

export const targetTable = (results, words = { pass: 'PASS', miss: 'MISS' }) => ({
  head: ['target', 'goal', 'measured', 'result'],
  rows: (results.targets ?? []).map((t) => [t.name, t.moonshot ? `${t.target} (moonshot ${t.moonshot.target})` : t.target, measuredText(t), resultText(t, words)]),
  align: ['l', 'l', 'r', 'l'],
});
