// From the workers' raw batches to the per-call and per-chunk figures in results.json: medians
// over repetitions, and differences paired with the bare SDK's batch of the same repetition.
import { median, p99, paired, quantile } from './stats.mjs';

/** baselines: id → the id of the configuration it is compared with, its bare client (default `bare`). */
export function summarizeChat(raw, baselines = {}) {
  const out = {};
  for (const [id, batches] of Object.entries(raw)) {
    const cpu = batches.map((b) => b.totalCpuUs / b.n);
    const wall = batches.map((b) => b.callsWallUs / b.n);
    const callCpu = batches.flatMap((b) => b.cpu);
    const callWall = batches.flatMap((b) => b.wall);
    out[id] = {
      batches: batches.length,
      callsPerBatch: batches[0]?.n,
      cpuPerCall: { reps: cpu, median: median(cpu), p99: p99(cpu) },
      wallPerCall: { reps: wall, median: median(wall), p99: p99(wall) },
      perCall: { cpuP50: quantile(callCpu, 0.5), cpuP99: p99(callCpu), wallP50: quantile(callWall, 0.5), wallP99: p99(callWall) },
    };
  }
  for (const [id, s] of Object.entries(out)) {
    const bare = out[baselines[id] ?? 'bare'];
    if (!bare) continue;
    s.added = {
      // Paired by repetition (the bare batch of the same round), then the median.
      cpuMedian: median(paired(s.cpuPerCall.reps, bare.cpuPerCall.reps)),
      wallMedian: median(paired(s.wallPerCall.reps, bare.wallPerCall.reps)),
      // Tails: the 99th percentile of single calls, minus the bare client's.
      cpuP99: s.perCall.cpuP99 - bare.perCall.cpuP99,
      wallP99: s.perCall.wallP99 - bare.perCall.wallP99,
    };
    s.ratio = { cpu: s.cpuPerCall.median / bare.cpuPerCall.median, wall: s.wallPerCall.median / bare.wallPerCall.median };
  }
  return out;
}

export function summarizeStreams(long, short, settings) {
  const per = (batches) => ({
    chunks: batches[0] ? batches[0].units / batches[0].n : NaN,
    chunkCounts: [...new Set(batches.map((b) => b.units / b.n))],
    cpu: batches.map((b) => b.totalCpuUs / b.n),
    wall: batches.map((b) => b.callsWallUs / b.n),
  });
  const out = {};
  for (const id of Object.keys(long)) {
    const L = per(long[id]);
    const S = per(short[id]);
    out[id] = {
      long: { n: settings.long.n, chunks: L.chunks, chunkCounts: L.chunkCounts, cpuPerStream: median(L.cpu), wallPerStream: median(L.wall), cpuReps: L.cpu, wallReps: L.wall },
      short: { n: settings.short.n, chunks: S.chunks, chunkCounts: S.chunkCounts, cpuPerStream: median(S.cpu), wallPerStream: median(S.wall), cpuReps: S.cpu, wallReps: S.wall },
    };
  }
  const bare = out.bare;
  if (bare) {
    for (const s of Object.values(out)) {
      const dL = { cpu: paired(s.long.cpuReps, bare.long.cpuReps), wall: paired(s.long.wallReps, bare.long.wallReps) };
      const dS = { cpu: paired(s.short.cpuReps, bare.short.cpuReps), wall: paired(s.short.wallReps, bare.short.wallReps) };
      const span = s.long.chunks - s.short.chunks;
      s.sameChunksAsBare = s.long.chunks === bare.long.chunks && s.short.chunks === bare.short.chunks;
      s.addedPerChunk = {
        // What the brief asks: (instrumented − bare) per stream / chunks in the stream. Includes
        // the call's own fixed overhead spread over its chunks.
        cpuNaive: median(dL.cpu) / s.long.chunks,
        wallNaive: median(dL.wall) / s.long.chunks,
        // The marginal cost of one more chunk: the slope between a long and a short stream, which
        // cancels the per-call overhead both share.
        cpuMarginal: median(paired(dL.cpu, dS.cpu)) / span,
        wallMarginal: median(paired(dL.wall, dS.wall)) / span,
      };
      s.addedPerStream = { cpuLong: median(dL.cpu), wallLong: median(dL.wall), cpuShort: median(dS.cpu), wallShort: median(dS.wall) };
    }
  }
  return out;
}

export function summarizeThroughput(tp) {
  const out = {};
  for (const [id, byConc] of Object.entries(tp)) {
    out[id] = {};
    for (const [conc, runs] of Object.entries(byConc)) {
      out[id][conc] = {
        callsPerSecond: median(runs.map((r) => r.callsPerSecond)),
        cpuPerCall: median(runs.map((r) => r.cpuUs / r.total)),
        runs: runs.map((r) => Math.round(r.callsPerSecond)),
      };
    }
  }
  if (out.bare) {
    for (const s of Object.values(out)) for (const [conc, v] of Object.entries(s)) v.ratio = v.callsPerSecond / out.bare[conc].callsPerSecond;
  }
  return out;
}
