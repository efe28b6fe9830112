// The benchmark's outputs: tables on stdout, bench/results.json, bench/overhead.svg (drawn here,
// no dependencies) and BENCHMARKS.md (generated; the hand-written analysis comes from
// scripts/bench/findings.md and is included as it is).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fmt, fmtBytes, fmtSigned } from './lib/stats.mjs';

// ── tables ────────────────────────────────────────────────────────────────────────────────────

function table(head, rows, align) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (align?.[i] === 'l' ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function mdTable(head, rows, align) {
  const sep = head.map((_, i) => (align?.[i] === 'l' ? '---' : '---:'));
  return [head, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

const label = (results, id) => results.configs.find((c) => c.id === id)?.label ?? id;
const ratio = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '—');

function chatRows(results) {
  return Object.entries(results.chat).map(([id, s]) => [
    label(results, id),
    fmt(s.cpuPerCall.median),
    id === 'bare' ? '—' : fmtSigned(s.added?.cpuMedian),
    id === 'bare' ? '—' : fmtSigned(s.added?.cpuP99),
    id === 'bare' ? '—' : ratio(s.ratio?.cpu),
    fmt(s.wallPerCall.median),
    id === 'bare' ? '—' : fmtSigned(s.added?.wallMedian),
    id === 'bare' ? '—' : fmtSigned(s.added?.wallP99),
    id === 'bare' ? '—' : ratio(s.ratio?.wall),
  ]);
}
const CHAT_HEAD = ['configuration', 'CPU µs/call', '+CPU median', '+CPU p99', 'CPU ratio', 'wall µs/call', '+wall median', '+wall p99', 'wall ratio'];

function streamRows(results, section = results.stream) {
  return Object.entries(section ?? {}).map(([id, s]) => [
    label(results, id),
    `${s.long.chunks} / ${s.short.chunks}`,
    fmt(s.long.cpuPerStream),
    id === 'bare' ? '—' : fmtSigned(s.addedPerChunk?.cpuMarginal, 3),
    id === 'bare' ? '—' : fmtSigned(s.addedPerChunk?.cpuNaive, 3),
    id === 'bare' ? '—' : fmtSigned(s.addedPerChunk?.wallMarginal, 3),
    id === 'bare' ? '—' : fmtSigned(s.addedPerChunk?.wallNaive, 3),
    id === 'bare' ? '—' : fmtSigned(s.addedPerStream?.cpuShort),
  ]);
}
const STREAM_HEAD = ['configuration', 'chunks long / short', 'CPU µs/long stream', '+CPU/chunk marginal', '+CPU/chunk naive', '+wall/chunk marginal', '+wall/chunk naive', '+CPU/short stream'];

function throughputRows(results) {
  const concs = results.settings.throughput.concurrency;
  return Object.entries(results.throughput).map(([id, s]) => [
    label(results, id),
    ...concs.flatMap((c) => [fmt(s[c]?.callsPerSecond, 0), id === 'bare' ? '—' : ratio(s[c]?.ratio), fmt(s[c]?.cpuPerCall)]),
  ]);
}
const throughputHead = (results) => ['configuration', ...results.settings.throughput.concurrency.flatMap((c) => [`calls/s c=${c}`, 'ratio', 'CPU µs/call'])];

function memoryRows(results) {
  const cps = results.settings.memory.checkpoints;
  return Object.entries(results.memory).map(([id, m]) => [
    label(results, id),
    fmtBytes(m.atStart),
    ...cps.map((c) => fmtBytes(m.points.find((p) => p.calls === c)?.heapUsed)),
    fmtBytes(m.growth),
    fmtBytes(m.fittedGrowth),
    `${fmt(m.bytesPerCall, 2)} B`,
    m.lateFittedGrowth === undefined ? '—' : fmtBytes(m.lateFittedGrowth),
    fmtBytes(m.points[m.points.length - 1].rss),
  ]);
}
const memoryHead = (results) => {
  const cps = results.settings.memory.checkpoints;
  const span = `${cps[0] / 1000}k→${cps.at(-1) / 1000}k`;
  return ['configuration', 'heap at start', ...cps.map((c) => `heap at ${c / 1000}k`), `growth ${span}`, `fitted growth ${span}`, 'fitted per call', 'fitted growth, second half', 'rss at end'];
};

function redisRows(results) {
  return Object.entries(results.redis).map(([id, r]) => [
    label(results, id),
    fmt(r.roundTripsPerCall, 3),
    Object.entries(r.byCommand)
      .map(([k, v]) => `${k} ${fmt(v, 3)}`)
      .join('; '),
    fmt(r.commandsInsideScriptsPerCall, 2),
  ]);
}
const REDIS_HEAD = ['configuration', 'round trips/call', 'commands per call', 'commands run inside scripts/call'];

function targetRows(results) {
  return results.targets.map((t) => [
    t.name,
    t.target,
    t.unit === 'bytes' ? fmtBytes(t.measured) : `${fmt(t.measured, t.unit === 'per call' ? 3 : undefined)} ${t.unit}`,
    t.pass ? 'PASS' : 'MISS',
  ]);
}
const TARGET_HEAD = ['target', 'goal', 'measured', 'result'];

const profileLabel = (results, id) => (id.endsWith('-streams') ? `${label(results, id.slice(0, -8))}, streamed chunks` : label(results, id));
const refProfile = (results, id) => results.profiles?.[id.endsWith('-streams') ? 'bare-streams' : 'bare'];

function profileText(results) {
  const out = [];
  for (const [id, p] of Object.entries(results.profiles ?? {})) {
    if (p.error || id.startsWith('bare')) continue;
    const u = p.unit ?? 'call';
    out.push('');
    out.push(`Profile of ${profileLabel(results, id)} (${p.calls} ${u}s; sampled self time ${fmt(p.perCallUs)} µs per ${u}, bare ${fmt(refProfile(results, id)?.perCallUs)})`);
    if (p.vsBare) {
      out.push(`Added self time per ${u} vs the bare SDK, charged to the package (or our code) that asked for it:`);
      out.push(table(['owner', `µs/${u}`, `bare µs/${u}`, 'added'], p.vsBare.ownerAreas.filter((a) => Math.abs(a.addedUs) >= 0.05).slice(0, 12).map((a) => [a.area, fmt(a.perCallUs), fmt(a.refPerCallUs), fmtSigned(a.addedUs)]), ['l']));
      out.push('');
      out.push(table(['owning function (most added)', 'file:line', `added µs/${u}`], p.vsBare.owners.slice(0, 15).map((f) => [f.function, `${f.file}:${f.line}`, fmtSigned(f.addedUs)]), ['l', 'l']));
      out.push('');
      out.push(table(['function (most added self time)', 'file:line', 'area', `added µs/${u}`], p.vsBare.functions.slice(0, 12).map((f) => [f.function, `${f.file}:${f.line}`, f.area, fmtSigned(f.addedUs)]), ['l', 'l', 'l']));
      out.push('');
    }
    out.push(table(['our function (self time)', 'file:line', `µs/${u}`, 'share'], p.topOurs.slice(0, 10).map((f) => [f.function, `${f.file}:${f.line}`, fmt(f.perCallUs), `${(f.share * 100).toFixed(1)}%`]), ['l', 'l']));
  }
  return out;
}

export function printReport(results, { profilesOnly = false } = {}) {
  if (profilesOnly) {
    process.stdout.write(`${profileText(results).join('\n')}\n`);
    return;
  }
  const out = [];
  out.push('');
  out.push(`llm-governor overhead benchmark (${results.mode}), ${results.machine.cpuModel}, ${results.machine.cores} cores, Node ${results.machine.node}, openai ${results.versions.openai}`);
  out.push('');
  out.push(`Non-streaming chat call (per call; median of ${results.settings.reps} interleaved batches of ${results.settings.chat.calls} sequential calls; p99 of single calls; + = added vs the bare SDK)`);
  out.push(table(CHAT_HEAD, chatRows(results), ['l']));
  out.push('');
  out.push('Streamed chat (per chunk the app reads; marginal = slope between long and short streams; naive = (instrumented − bare) / chunks)');
  out.push(table(STREAM_HEAD, streamRows(results), ['l']));
  out.push('');
  out.push('Streamed chat read from a full buffer (every chunk already in the socket: the same reads for every configuration; only the reading is timed); per chunk');
  out.push(table(STREAM_HEAD, streamRows(results, results.bufferedStream), ['l']));
  out.push('');
  out.push('Throughput (non-streaming calls)');
  out.push(table(throughputHead(results), throughputRows(results), ['l']));
  if (Object.keys(results.memory).length) {
    out.push('');
    out.push(`Memory (heapUsed after forced GC; concurrency ${results.settings.memory.concurrency})`);
    out.push(table(memoryHead(results), memoryRows(results), ['l']));
  }
  if (Object.keys(results.redis).length) {
    out.push('');
    out.push('Redis commands per call (MONITOR, commands sent by the app\'s process)');
    out.push(table(REDIS_HEAD, redisRows(results), ['l', 'r', 'l']));
  }
  out.push('');
  out.push('Targets');
  out.push(table(TARGET_HEAD, targetRows(results), ['l', 'l']));
  out.push(...profileText(results));
  out.push('');
  process.stdout.write(`${out.join('\n')}\n`);
}

// ── the plot ──────────────────────────────────────────────────────────────────────────────────

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function overheadSvg(results) {
  const rows = Object.entries(results.chat)
    .filter(([id]) => id !== 'bare')
    .map(([id, s]) => ({ label: label(results, id), cpu: s.added.cpuMedian, wall: s.added.wallMedian }));
  const labelW = 250;
  const plotW = 560;
  const rowH = 46;
  const top = 70;
  const width = labelW + plotW + 40;
  const height = top + rows.length * rowH + 70;
  const values = rows.flatMap((r) => [r.cpu, r.wall]).filter(Number.isFinite);
  const lo = Math.min(0, ...values);
  const hi = Math.max(70, ...values) * 1.08;
  const x = (v) => labelW + ((v - lo) / (hi - lo)) * plotW;
  const step = niceStep((hi - lo) / 8);
  const parts = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">Added time per non-streaming chat call vs the bare openai SDK (µs, median)</text>`);
  parts.push(`<text x="${width / 2}" y="40" text-anchor="middle" fill="#555">${esc(`${results.machine.cpuModel}, ${results.machine.cores} cores, Node ${results.machine.node}, openai ${results.versions.openai}; simulator at zero latency`)}</text>`);
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) {
    const gx = x(v).toFixed(1);
    parts.push(`<line x1="${gx}" y1="${top - 8}" x2="${gx}" y2="${top + rows.length * rowH}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${gx}" y="${top + rows.length * rowH + 16}" text-anchor="middle" fill="#555">${fmt(v, 0)}</text>`);
  }
  parts.push(`<line x1="${x(0).toFixed(1)}" y1="${top - 8}" x2="${x(0).toFixed(1)}" y2="${top + rows.length * rowH}" stroke="#333"/>`);
  const targets = [
    [30, '30 µs (tracing + metering)'],
    [60, '60 µs (every guard)'],
  ].filter(([limit]) => limit <= hi);
  for (const [limit] of targets) {
    const lx = x(limit).toFixed(1);
    parts.push(`<line x1="${lx}" y1="${top - 14}" x2="${lx}" y2="${top + rows.length * rowH}" stroke="#c0392b" stroke-dasharray="5,4"/>`);
  }
  // One label for the dashed lines: they stand close together at this scale.
  if (targets.length) {
    const text = `target${targets.length > 1 ? 's' : ''} ${targets.map(([, t]) => t).join(' and ')}`;
    parts.push(`<text x="${(x(targets[0][0]) - 4).toFixed(1)}" y="${top - 18}" text-anchor="start" fill="#c0392b" font-size="11">${text}</text>`);
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    parts.push(`<text x="${labelW - 10}" y="${y + rowH / 2 + 4}" text-anchor="end">${esc(r.label)}</text>`);
    const bar = (v, dy, color) => {
      if (!Number.isFinite(v)) return;
      const x0 = x(Math.min(0, v));
      const w = Math.max(1, Math.abs(x(v) - x(0)));
      parts.push(`<rect x="${x0.toFixed(1)}" y="${(y + dy).toFixed(1)}" width="${w.toFixed(1)}" height="15" fill="${color}"/>`);
      const tx = v >= 0 ? x(v) + 4 : x(v) - 4;
      parts.push(`<text x="${tx.toFixed(1)}" y="${(y + dy + 12).toFixed(1)}" text-anchor="${v >= 0 ? 'start' : 'end'}" font-size="11">${fmtSigned(v)}</text>`);
    };
    bar(r.cpu, 6, '#2e86de');
    bar(r.wall, 24, '#95a5a6');
  });
  const ly = height - 24;
  parts.push(`<rect x="${labelW}" y="${ly - 10}" width="12" height="12" fill="#2e86de"/><text x="${labelW + 18}" y="${ly}">added CPU per call</text>`);
  parts.push(`<rect x="${labelW + 170}" y="${ly - 10}" width="12" height="12" fill="#95a5a6"/><text x="${labelW + 188}" y="${ly}">added wall time per call</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function niceStep(raw) {
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}

// ── BENCHMARKS.md ─────────────────────────────────────────────────────────────────────────────

function markdown(results, { repoRoot, svgPath, jsonPath }) {
  const m = results.machine;
  const v = results.versions;
  const s = results.settings;
  const L = [];
  L.push('# Benchmarks');
  L.push('');
  L.push(
    `Generated by \`npm run bench\` (\`scripts/bench/\`) on ${results.generatedAt.slice(0, 10)}, commit ${v.commit ?? 'unknown'}, in ${Math.round(results.durationSeconds)} s. ` +
      'Every figure below comes from one run, in which the bare openai SDK and each instrumented configuration ran side by side against the embedded provider simulator at zero latency. ' +
      `The raw figures are in [\`bench/results.json\`](${jsonPath}).${results.mode === 'quick' ? ' **This is a --quick run: small samples, for a look only.**' : ''}`,
  );
  L.push('');
  L.push('## Targets');
  L.push('');
  L.push(mdTable(TARGET_HEAD, targetRows(results).map((r) => [r[0], r[1], r[2], r[3] === 'PASS' ? '**pass**' : '**miss**']), ['l', 'l', 'r', 'l']));
  L.push('');
  L.push('## Non-streaming chat calls');
  L.push('');
  L.push(
    `Per call, from ${s.reps} interleaved repetitions of a batch of ${s.chat.calls} sequential calls per configuration. ` +
      '"median" is the median over repetitions of the batch\'s mean per call; "+ … median" is the median of the per-repetition differences from the bare SDK\'s batch of the same repetition; ' +
      '"p99" is the 99th percentile of single calls over all batches, minus the bare SDK\'s. Ratios are against the bare SDK\'s median.',
  );
  L.push('');
  L.push(mdTable(CHAT_HEAD, chatRows(results), ['l']));
  L.push('');
  L.push(`![Added µs per call](${svgPath})`);
  L.push('');
  const otlpRows = Object.entries(results.otlp ?? {})
    .filter(([, list]) => list.some((x) => x.bytes > 0))
    .map(([id, list]) => {
      const calls = list.reduce((a, x) => a + x.calls, 0);
      const bytes = list.reduce((a, x) => a + x.bytes, 0);
      const reqs = list.reduce((a, x) => a + x.requests, 0);
      return [label(results, id), fmt(bytes / calls, 0), fmt(calls / Math.max(1, reqs), 0)];
    });
  if (otlpRows.length) {
    L.push('Spans were really exported: OTLP/protobuf bytes the receiver got per call, and calls per export request, during the batches above.');
    L.push('');
    L.push(mdTable(['configuration', 'OTLP bytes/call', 'calls per export'], otlpRows, ['l']));
    L.push('');
  }
  L.push('## Streamed chat');
  L.push('');
  L.push(
    `A long stream (\`n: ${s.stream.long.n}\`, ${s.stream.long.streams} per repetition) and a short one (\`n: ${s.stream.short.n}\`, ${s.stream.short.streams} per repetition), read to the end with \`for await\`; chunks are those the app sees ` +
      '(the usage-only chunk llm-governor asks for is hidden from the app, so the counts match the bare SDK\'s). ' +
      '"marginal" is the added cost of one more chunk: ((instrumented − bare) for the long stream − (instrumented − bare) for the short one) / (chunk difference), which cancels the per-call overhead. ' +
      '"naive" is (instrumented − bare) / chunks for the long stream, as the issue words it: it spreads the call\'s fixed overhead over its chunks.',
  );
  L.push('');
  L.push(mdTable(STREAM_HEAD, streamRows(results), ['l']));
  L.push('');
  L.push(
    'At zero chunk delay the simulator writes frames as fast as it can while the app reads whatever has arrived: how the chunks fall into socket reads depends on how fast each side is, a slower reader gets more chunks per read, and a read costs more than a chunk, so in this table an instrumented app can even come out *cheaper* per chunk than the bare one. ' +
      `The per-chunk target is therefore judged on streams read from a full buffer: the app sends the request, waits ${s.buffered.waitMs} ms (the simulator has written every chunk by then; they wait in the socket), and only the reading, from the first chunk to the end of the stream, is timed. Every configuration then reads the same bytes the same way. ` +
      `A long stream (\`n: ${s.buffered.long.n}\`, ${s.buffered.long.streams} per repetition) and a short one (\`n: ${s.buffered.short.n}\`, ${s.buffered.short.streams} per repetition); "marginal" and "naive" as above (the timed part of a stream includes the end of the call: the span, metrics and cost recorded once the stream is over, which the marginal figure cancels).`,
  );
  L.push('');
  L.push(mdTable(STREAM_HEAD, streamRows(results, results.bufferedStream), ['l']));
  L.push('');
  L.push('## Throughput');
  L.push('');
  L.push(`Non-streaming calls per second, ${s.throughput.calls} calls per run, median of ${s.throughput.reps} interleaved runs per concurrency. With 2 cores, the simulator (and Redis) share the machine with the app, so these are relative figures.`);
  L.push('');
  L.push(mdTable(throughputHead(results), throughputRows(results), ['l']));
  L.push('');
  if (Object.keys(results.memory).length) {
    L.push('## Memory');
    L.push('');
    L.push(`\`heapUsed\` after two forced GCs (\`--expose-gc\`) at each checkpoint of one long run of non-streaming calls at concurrency ${s.memory.concurrency}, spans exported as they go. "No growth" is judged on the second half of the run, from ${s.memory.checkpoints.find((c) => c >= s.memory.checkpoints.at(-1) / 2) / 1000}k calls to the last checkpoint (a least-squares fit over those checkpoints): by then everything created once (the tokenizer, the price table, metric series, the SDK's buffers) exists and the bounded caches (the token-count memo: at most 2048 texts, 2 M characters) have filled, so what still grows is what a leak looks like. The fit over the whole run is shown too.`);
    L.push('');
    L.push(mdTable(memoryHead(results), memoryRows(results), ['l']));
    L.push('');
  }
  if (Object.keys(results.redis).length) {
    L.push('## Redis round trips');
    L.push('');
    L.push(`Commands the app's process sent to Redis during ${Object.values(results.redis)[0].calls} sequential calls, counted with \`MONITOR\` (commands run inside a Lua script are not round trips and are counted apart); EVALSHA scripts are named by matching their SHA-1 with the scripts in \`dist/\`. \`INFO commandstats\` over the same calls is in \`bench/results.json\`.`);
    L.push('');
    L.push(mdTable(REDIS_HEAD, redisRows(results), ['l', 'r', 'l']));
    L.push('');
    L.push(
      'A budget costs two round trips per call: one `EVALSHA` to reserve the worst case before the call is sent (the reservation itself is exactly one round trip, atomic over all the call\'s budgets), and one `EVALSHA` to settle after it ends (commit the actual cost, release the rest). ' +
        'The settle cannot be folded into the next call\'s reserve without delaying the commit (budgets would show spend late and a reservation would live until the next call, or its TTL, in a process that stops calling). ' +
        'With the rate limit in Redis, each attempt adds one admission script, and the end of the call one more to correct the entry to the actual tokens.',
    );
    L.push('');
  }
  const profiles = Object.entries(results.profiles ?? {}).filter(([, p]) => !p.error);
  const findingsFile = join(repoRoot, 'scripts', 'bench', 'findings.md');
  if (profiles.length || existsSync(findingsFile)) {
    L.push('## Profiles');
    L.push('');
    L.push(`\`node --cpu-prof --cpu-prof-interval=100\` on a fresh process of the configuration, ${s.profile.calls} sequential non-streaming calls after a warm-up; self time per call from the samples taken during those calls only.`);
    L.push('');
    for (const [id, p] of profiles) {
      if (id.startsWith('bare')) continue;
      const u = p.unit ?? 'call';
      L.push(`### ${profileLabel(results, id)}`);
      L.push('');
      L.push(
        `Sampled self time: ${fmt(p.perCallUs)} µs per ${u} in all (the app, the SDK, Node's fetch, the OpenTelemetry SDK, GC), of which ${fmt(p.oursTotalUs / p.calls)} µs in llm-governor's own code; the bare SDK's profile: ${fmt(refProfile(results, id)?.perCallUs)} µs per ${u}.` +
          (p.windowed ? '' : " (The measured window could not be matched with the profile's clock: the whole process is counted, start-up included.)"),
      );
      L.push('');
      if (p.vsBare) {
        L.push(`Where the added time goes: self time per ${u}, this profile minus the bare SDK's, charged to the package (or our code) that asked for it — the nearest frame on the stack outside Node's internals, so that time in Node's fetch, streams, timers and sockets counts for whoever called them:`);
        L.push('');
        L.push(mdTable(['owner', `µs/${u}`, `bare µs/${u}`, 'added'], p.vsBare.ownerAreas.filter((a) => Math.abs(a.addedUs) >= 0.05).slice(0, 14).map((a) => [a.area, fmt(a.perCallUs), fmt(a.refPerCallUs), fmtSigned(a.addedUs)]), ['l']));
        L.push('');
        L.push(mdTable(['owning function (most added)', 'file:line', `added µs/${u}`], p.vsBare.owners.map((f) => [`\`${f.function}\``, `${f.file}:${f.line}`, fmtSigned(f.addedUs)]), ['l', 'l']));
        L.push('');
        L.push('The same by the function that was running (self time, not charged to a caller):');
        L.push('');
        L.push(mdTable(['function', 'file:line', 'area', `added µs/${u}`], p.vsBare.functions.map((f) => [`\`${f.function}\``, `${f.file}:${f.line}`, f.area, fmtSigned(f.addedUs)]), ['l', 'l', 'l']));
        L.push('');
      }
      L.push('Top self time in our code:');
      L.push('');
      L.push(mdTable(['function', 'file:line (dist)', `µs/${u}`, 'share'], p.topOurs.map((f) => [`\`${f.function}\``, `${f.file}:${f.line}`, fmt(f.perCallUs), `${(f.share * 100).toFixed(1)}%`]), ['l', 'l']));
      L.push('');
    }
    if (existsSync(findingsFile)) {
      L.push(readFileSync(findingsFile, 'utf8').trim());
      L.push('');
    }
  }
  L.push('## Machine and versions');
  L.push('');
  L.push(`- CPU: ${m.cpuModel}${m.cpuMHz ? ` (${Math.round(m.cpuMHz)} MHz)` : ''}, ${m.cores} cores; memory ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB; ${m.os}`);
  L.push(`- Node ${m.node} (V8 ${m.v8})`);
  for (const [k, val] of Object.entries(v)) if (k !== 'commit') L.push(`- ${k} ${val ?? '(not installed)'}`);
  L.push('');
  L.push('## Method');
  L.push('');
  L.push(METHOD(results));
  L.push('');
  L.push('## Configurations');
  L.push('');
  L.push(mdTable(['configuration', 'what runs', 'preload'], results.configs.map((c) => [c.label, c.description, c.preload.length ? c.preload.map((p) => `\`--require ${p}\``).join(' ') : '—']), ['l', 'l', 'l']));
  L.push('');
  L.push('Every configuration also gets `--expose-gc` and the same telemetry environment: `OTEL_TRACES_EXPORTER=otlp`, `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf` to the harness\'s local receiver, `OTEL_LOGS_EXPORTER=none`, and a Prometheus exporter on its own port (never scraped). The llm-governor variables per configuration are in `bench/results.json` (`configs[].env`).');
  L.push('');
  if (results.notes?.length) {
    L.push('## Notes from the run');
    L.push('');
    for (const n of results.notes) L.push(`- ${n.replace(/\n/g, ' ')}`);
    L.push('');
  }
  return `${L.join('\n')}\n`;
}

const METHOD = (results) => {
  const s = results.settings;
  return [
    '- **One process per configuration.** The preload is process-wide, so each configuration is a child process (`scripts/bench/worker.cjs`, a plain openai app that never imports llm-governor) started with its own `--require`. The harness (`scripts/bench/run.mjs`) starts them all, warms each up ' +
      `(${s.warmup.calls} calls and ${s.warmup.streams} streams of each kind), then drives them one command at a time over IPC: while one configuration runs, the others are idle.`,
    `- **Interleaved repetitions.** Each of the ${s.reps} repetitions visits every configuration (the order rotates each repetition); each visit is ${s.chat.prime} unmeasured calls, then a measured batch of ${s.chat.calls} sequential \`chat.completions.create\` calls (gpt-4o-mini, the same system prompt and a new user question each call, about 80 prompt tokens, \`max_tokens: 64\`; nothing can be cached on the user's text), then the stream batches (long and short, read as they come and read from a full buffer). Added figures are differences from the bare SDK's batch of the same repetition.`,
    '- **Wall and CPU per call.** Wall time from `performance.now()` around each call; CPU from `process.cpuUsage()` (user + system of the whole process: GC and exporter threads included). A batch\'s CPU also includes flushing the spans it produced (`forceFlush()` on the global tracer provider) and a 20 ms idle settle for background drains (the audit file sink), so that work done "off the call path" is charged to the calls that caused it. Wall time covers the calls only.',
    '- **The same exporters for both instrumentations.** llm-governor\'s preload starts its own NodeSDK from the environment (`src/sdk.ts`); the peer, `@opentelemetry/instrumentation-openai`, is registered by `scripts/bench/peer-setup.cjs` in a NodeSDK built the same way. Traces: BatchSpanProcessor → OTLP/HTTP protobuf → a receiver in the harness on localhost that answers 200 and counts bytes (real serialisation and HTTP, no network beyond loopback). Metrics: the Prometheus exporter (pull; not scraped, so recording is measured, not scraping). Logs: none (the peer emits its GenAI log events to the no-op logger; llm-governor\'s OpenTelemetry audit sink is off).',
    results.pinning
      ? `- **The simulator** (\`dist/simulator\`, \`latencyMs: 0\`, \`chunkDelayMs: 0\`) runs in the harness process; \`redis-server\` (from PATH, free port, no persistence) is started by the harness. With \`taskset\`, the app under test runs on CPU ${results.pinning.app} and the harness, the simulator and redis-server on CPU ${results.pinning.harness}, so that serving a call never competes with making it (\`--pin\`). CPU is the app process's alone (all its threads).`
      : '- **The simulator** (`dist/simulator`, `latencyMs: 0`, `chunkDelayMs: 0`) runs in the harness process; `redis-server` (from PATH, free port, no persistence) is started by the harness. Both share the cores with the app (no pinning in this run; \`--pin\` separates them), which affects wall time and throughput equally for every configuration; CPU is the app process\'s alone.',
    `- **Streams**: see the section above. **Throughput**: ${s.throughput.calls} calls through 1, 16 and 128 concurrent loops. **Memory**: heap after forced GC at ${s.memory.checkpoints.join(', ')} calls. **Redis**: \`MONITOR\` during ${s.redis.calls} calls. **Profiles**: \`--cpu-prof\` on a fresh process, run for the configurations whose targets were missed.`,
    '- **Not measured**: network latency (the simulator answers at once, so every ratio here is a worst case: against a real provider, a call takes hundreds of milliseconds and the added microseconds vanish in it), the cache-miss cost of storing answers (cache off in "every guard"), moderation through the endpoint (an extra HTTP call by design), and Azure/xAI clients.',
  ].join('\n');
};

export function writeOutputs(results, { repoRoot, quick }) {
  const dir = quick ? join(repoRoot, 'bench', 'quick') : join(repoRoot, 'bench');
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'results.json');
  const svg = join(dir, 'overhead.svg');
  writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(svg, overheadSvg(results));
  // A quick run writes its own BENCHMARKS.md next to its results, for a look; the repository's
  // BENCHMARKS.md comes from full runs only.
  const md = quick ? join(dir, 'BENCHMARKS.md') : join(repoRoot, 'BENCHMARKS.md');
  writeFileSync(md, markdown(results, { repoRoot, svgPath: relative(dirname(md), svg), jsonPath: relative(dirname(md), json) }));
  return [relative(repoRoot, json), relative(repoRoot, svg), relative(repoRoot, md)];
}
