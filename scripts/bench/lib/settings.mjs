// The harness's command line and the sample sizes of a full and a --quick run.
import { resolve } from 'node:path';

/** The measuring phases `--phases=` picks from (the warm-up always runs). */
export const PHASES = ['chat', 'streams', 'throughput', 'redis', 'memory', 'startup', 'profiles'];

export function parseArgs(argv) {
  const onlyArg = argv.find((a) => a.startsWith('--only='));
  const phasesArg = argv.find((a) => a.startsWith('--phases='));
  const phases = phasesArg ? phasesArg.slice(9).split(',').filter(Boolean) : PHASES;
  const unknown = phases.filter((p) => !PHASES.includes(p));
  if (unknown.length) throw new Error(`--phases: unknown ${unknown.join(', ')} (phases: ${PHASES.join(', ')})`);
  const keepArg = argv.find((a) => a.startsWith('--keep-profiles='));
  return {
    quick: argv.includes('--quick'),
    render: argv.includes('--render'),
    pin: argv.includes('--pin'),
    profileMode: argv.includes('--no-profile') ? 'off' : argv.includes('--profile') ? 'always' : 'on-miss',
    // bare is always included: every added figure is measured against it.
    only: onlyArg ? new Set(['bare', ...onlyArg.slice(7).split(',').filter(Boolean)]) : undefined,
    phases: new Set(phases),
    profileOnly: argv.includes('--profile-only'),
    keepProfiles: keepArg ? resolve(keepArg.slice(16)) : undefined,
  };
}

/** The sample sizes: each value is `pick(quick, full)`. */
export function benchSettings(quick) {
  const pick = (q, full) => (quick ? q : full);
  return {
    mode: pick('quick', 'full'),
    warmup: { calls: pick(600, 4_000), streams: pick(2, 4) },
    reps: pick(2, 7),
    chat: { calls: pick(200, 800), prime: pick(20, 50) },
    stream: { long: { streams: pick(3, 8), n: 16 }, short: { streams: pick(6, 16), n: 1 }, prime: 1 },
    buffered: { waitMs: 40, long: { streams: pick(4, 12), n: 16 }, short: { streams: pick(4, 12), n: 1 }, prime: 1 },
    throughput: { concurrency: [1, 16, 128], calls: pick(300, 800), reps: 1, prime: pick(30, 50) },
    memory: {
      checkpoints: pick([1_000, 1_500, 2_000, 2_500, 3_000], [10_000, 25_000, 50_000, 62_500, 75_000, 87_500, 100_000]),
      concurrency: 16,
      configs: ['tm', 'mem', 'allmem', 'all'],
    },
    redis: { calls: pick(200, 1_000) },
    // Fresh processes, interleaved: `node [--require …] -e "require('openai')"`, then the first call.
    startup: { runs: pick(4, 10) },
    firstCall: { runs: pick(3, 8), later: pick(10, 20) },
    profile: { warmup: pick(600, 3_000), calls: pick(600, 3_000), streams: { streams: pick(8, 30), n: 16, waitMs: 40 }, configs: ['peer', 'tm', 'allmem', 'all'] },
  };
}
