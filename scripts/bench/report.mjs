// The benchmark's outputs: tables on stdout, bench/results.json, bench/overhead.svg and
// BENCHMARKS.md. The tables are built in report/tables.mjs (and report/startup.mjs,
// report/profiles.mjs), the plot in report/svg.mjs, the Markdown in report/markdown.mjs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { markdown } from './report/markdown.mjs';
import { profileText } from './report/profiles.mjs';
import { firstCallTable, startupTable, startupTitles } from './report/startup.mjs';
import { overheadSvg } from './report/svg.mjs';
import { chatTable, memoryTable, redisTable, streamTable, targetTable, textTable, throughputTable } from './report/tables.mjs';

export function printReport(results, { profilesOnly = false } = {}) {
  if (profilesOnly) {
    process.stdout.write(`${profileText(results).join('\n')}\n`);
    return;
  }
  const out = [''];
  // A partial run (--only, --phases) leaves some tables empty: those are left out.
  const section = (title, tbl) => (tbl && !tbl.rows.length ? undefined : out.push(title, ...(tbl ? [textTable(tbl)] : []), ''));
  out.push(`llm-governor overhead benchmark (${results.mode}), ${results.machine.cpuModel}, ${results.machine.cores} cores, Node ${results.machine.node}, openai ${results.versions.openai}`, '');
  section(
    `Non-streaming chat call (per call; median of ${results.settings.reps} interleaved batches of ${results.settings.chat.calls} sequential calls; p99 of single calls; + = added vs its bare client: the bare openai SDK, or for the AI SDK rows the bare AI SDK)`,
    chatTable(results),
  );
  section('Streamed chat (per chunk the app reads; marginal = slope between long and short streams; naive = (instrumented − bare) / chunks)', streamTable(results, results.stream));
  section(
    'Streamed chat read from a full buffer (every chunk already in the socket: the same reads for every configuration; only the reading is timed); per chunk',
    streamTable(results, results.bufferedStream),
  );
  section('Throughput (non-streaming calls)', throughputTable(results));
  if (Object.keys(results.memory).length) section(`Memory (heapUsed after forced GC; concurrency ${results.settings.memory.concurrency})`, memoryTable(results));
  if (Object.keys(results.redis).length) section("Redis commands per call (MONITOR, commands sent by the app's process) and connections it holds (CLIENT LIST)", redisTable(results));
  const titles = startupTitles(results);
  section(titles.startup, startupTable(results));
  section(titles.firstCall, firstCallTable(results));
  out.push('Targets', textTable(targetTable(results)));
  out.push(...profileText(results), '');
  process.stdout.write(`${out.join('\n')}\n`);
}

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
