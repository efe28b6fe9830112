// Running the CPU profiles: a fresh worker per configuration under `--cpu-prof`, the same calls
// as the bare SDK's reference profile, summarised by lib/profile.mjs.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { diffProfiles, summarizeProfile } from './profile.mjs';
import { Worker } from './worker-process.mjs';

const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);

/**
 * Profiles the bare SDK (the reference) and each configuration in `ids` into results.profiles:
 * what an instrumented profile has on top of the bare one is what the instrumentation costs,
 * wherever it is spent. ctx: { configs, settings, tmp, repoRoot, keepProfiles, pinTo }.
 */
export async function runProfiles(results, ctx, ids) {
  if (!ids.length) return;
  const { settings } = ctx;
  const byId = (id) => ctx.configs.find((c) => c.id === id);
  log(`profiling bare (--cpu-prof, ${settings.profile.calls} calls), the reference`);
  const bare = await profileConfig(ctx, byId('bare'));
  for (const id of ids) {
    log(`profiling ${id} (--cpu-prof, ${settings.profile.calls} calls)`);
    const p = await profileConfig(ctx, byId(id));
    if (!p.error && !bare.error) p.vsBare = diffProfiles(p, bare);
    results.profiles[id] = p;
  }
  results.profiles.bare = bare;
  // Streams: per chunk, the tracing + metering configuration against the bare SDK.
  if (ids.includes('tm') && settings.profile.streams) {
    log(`profiling streams: bare and tm (${settings.profile.streams.streams} streams, n=${settings.profile.streams.n}, read from a full buffer)`);
    const bareS = await profileConfig(ctx, byId('bare'), { streams: true });
    const tmS = await profileConfig(ctx, byId('tm'), { streams: true });
    if (!tmS.error && !bareS.error) tmS.vsBare = diffProfiles(tmS, bareS);
    results.profiles['tm-streams'] = tmS;
    results.profiles['bare-streams'] = bareS;
  }
  for (const p of Object.values(results.profiles)) {
    delete p.all;
    delete p.allOwners;
  }
}

async function profileConfig(ctx, config, { streams = false } = {}) {
  const { settings } = ctx;
  const name = `${config.id}${streams ? '-streams' : ''}`;
  const dir = join(ctx.tmp, `prof-${name}`);
  mkdirSync(dir, { recursive: true });
  const w = new Worker(config, { extraExecArgv: ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=100'], pinTo: ctx.pinTo });
  await w.call('ready');
  await w.call('warmup', { calls: settings.profile.warmup, streams: streams ? 4 : 0 });
  const res = streams ? await w.call('profileStreams', settings.profile.streams) : await w.call('calls', { calls: settings.profile.calls, concurrency: 1 });
  await w.close();
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return { error: 'no .cpuprofile written' };
  if (ctx.keepProfiles) {
    mkdirSync(ctx.keepProfiles, { recursive: true });
    copyFileSync(join(dir, file), join(ctx.keepProfiles, `${name}.cpuprofile`));
  }
  // Per call, or per streamed chunk the app read.
  const units = streams ? res.chunks : settings.profile.calls;
  const summary = summarizeProfile(join(dir, file), { repoRoot: ctx.repoRoot, window: { startUs: res.startMonoUs, endUs: res.endMonoUs }, calls: units });
  summary.file = undefined;
  summary.unit = streams ? 'chunk' : 'call';
  return summary;
}
