// Redis round trips per call and connections held, for a configuration that uses Redis: MONITOR
// while the worker makes sequential calls, each command attributed to the process that sent it
// (by the sockets it owns, from /proc), and CLIENT LIST sampled meanwhile.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * Commands that a process sends on a timer, whatever its traffic: not per call. The budget gauges
 * refresh their states every 10 s.
 */
export const PERIODIC = new Set(['EVALSHA budget states']);

/** SHA-1 of each Lua script in dist/ → a readable name, so that EVALSHA lines say what ran. */
function scriptNames(repoRoot) {
  const names = new Map();
  const add = (file, exportsWanted) => {
    try {
      const mod = require(join(repoRoot, 'dist', file));
      for (const [exp, name] of exportsWanted) {
        if (typeof mod[exp] === 'string') names.set(createHash('sha1').update(mod[exp]).digest('hex'), name);
      }
    } catch {
      /* names are a nicety */
    }
  };
  add('cost/stores/lua.js', [
    ['RESERVE_LUA', 'budget reserve'],
    ['SETTLE_LUA', 'budget settle'],
    ['STATES_LUA', 'budget states'],
    ['MARK_ONCE_LUA', 'budget threshold mark'],
    ['LIST_LUA', 'budget list'],
  ]);
  add('guards/rate-limit/lua.js', [
    ['ADMIT_LUA', 'rate-limit admit'],
    ['REWEIGH_LUA', 'rate-limit reweigh'],
  ]);
  return names;
}

const portOf = (addr) => Number(String(addr).split(':').pop());

/**
 * The local ports of the established TCP connections that process `pid` holds to `remotePort`
 * (its socket inodes in /proc/<pid>/fd, matched in /proc/net/tcp{,6}); undefined off Linux.
 */
export function processPorts(pid, remotePort) {
  const inodes = new Set();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = readlinkSync(`/proc/${pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/);
        if (m) inodes.add(m[1]);
      } catch {
        /* closed meanwhile */
      }
    }
  } catch {
    return undefined;
  }
  const ports = new Set();
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // sl local_address rem_address st … inode (the 10th column); st 01 = ESTABLISHED
      if (cols.length < 10 || cols[3] !== '01' || !inodes.has(cols[9])) continue;
      if (parseInt(cols[2].split(':')[1], 16) === remotePort) ports.add(parseInt(cols[1].split(':')[1], 16));
    }
  }
  return ports;
}

/** CLIENT LIST: the client ports the server sees, and how many of them belong to `pid`. */
async function clientsOf(redis, pid) {
  const list = String(await redis.admin.client('LIST'));
  const clientPorts = list
    .split('\n')
    .map((line) => line.match(/\baddr=(\S+)/)?.[1])
    .filter(Boolean)
    .map(portOf);
  const mine = processPorts(pid, redis.port);
  return { all: clientPorts.length, app: mine ? clientPorts.filter((p) => mine.has(p)).length : undefined, ports: mine };
}

/** Names a MONITOR line: EVALSHA by its script, other commands upper-case. */
function commandName(args, names) {
  const cmd = String(args[0]).toLowerCase();
  if (cmd === 'evalsha') return `EVALSHA ${names.get(String(args[1])) ?? String(args[1]).slice(0, 8)}`;
  if (cmd === 'eval') return `EVAL ${names.get(createHash('sha1').update(String(args[1])).digest('hex')) ?? 'script'}`;
  return cmd.toUpperCase();
}

const perCall = (map, calls) => Object.fromEntries([...map.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / calls]));

/**
 * `calls` sequential calls by `worker` (its process id: worker.pid), under MONITOR. Counted as
 * round trips: the commands sent from the worker's own connections (run inside a Lua script:
 * counted apart; off Linux, every client's commands but the harness's bookkeeping).
 */
export async function countRedis({ redis, worker, calls, Redis, repoRoot }) {
  const names = scriptNames(repoRoot);
  const monitorClient = new Redis(redis.url, { lazyConnect: true });
  await monitorClient.connect();
  const monitor = await monitorClient.monitor();
  const bySource = new Map(); // client port → Map(command name → count)
  let inScripts = 0;
  let recording = false;
  monitor.on('monitor', (_time, args, source) => {
    if (!recording) return;
    if (String(source).includes('lua')) {
      inScripts++;
      return; // run inside a script: not a round trip
    }
    const name = commandName(args, names);
    const port = portOf(source);
    if (!bySource.has(port)) bySource.set(port, new Map());
    const counts = bySource.get(port);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  });
  await new Promise((r) => setTimeout(r, 100));
  const before = await clientsOf(redis, worker.pid);
  const appPorts = new Set(before.ports ?? []);
  let maxApp = before.app;
  await redis.admin.config('RESETSTAT');
  recording = true;
  const running = worker.call('calls', { calls, concurrency: 1 });
  let done = false;
  running.finally(() => (done = true)).catch(() => undefined);
  // CLIENT LIST while the calls run: the most connections the app's process held at once.
  while (!done) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await clientsOf(redis, worker.pid);
    for (const p of now.ports ?? []) appPorts.add(p);
    if (now.app !== undefined) maxApp = Math.max(maxApp ?? 0, now.app);
  }
  await running;
  await new Promise((r) => setTimeout(r, 200));
  recording = false;
  const after = await clientsOf(redis, worker.pid);
  for (const p of after.ports ?? []) appPorts.add(p);
  const info = await redis.admin.info('commandstats');
  monitor.disconnect();
  monitorClient.disconnect();

  const attributed = before.ports !== undefined;
  const harnessOnly = new Set(['MONITOR', 'INFO', 'CONFIG', 'CLIENT']);
  const app = new Map();
  const others = new Map();
  const usedPorts = new Set();
  for (const [port, counts] of bySource) {
    const mine = attributed ? appPorts.has(port) : true;
    for (const [name, n] of counts) {
      if (!attributed && harnessOnly.has(name)) continue;
      const into = mine ? app : others;
      into.set(name, (into.get(name) ?? 0) + n);
      if (mine) usedPorts.add(port);
    }
  }
  const total = [...app.values()].reduce((a, b) => a + b, 0);
  const periodic = [...app.entries()].filter(([k]) => PERIODIC.has(k)).reduce((a, [, v]) => a + v, 0);
  const commandstats = {};
  for (const line of info.split('\n')) {
    const m = line.match(/^cmdstat_(\S+?):calls=(\d+)/);
    if (m && !/^(info|config|monitor|client)\b/.test(m[1])) commandstats[m[1]] = Number(m[2]) / calls;
  }
  return {
    calls,
    attributedBy: attributed ? "the app process's sockets (/proc)" : 'every client but the harness',
    roundTripsPerCall: total / calls,
    // What the app sends because of its calls: the periodic refreshes (PERIODIC) aside.
    perCallExcludingPeriodic: (total - periodic) / calls,
    byCommand: perCall(app, calls),
    otherClientsByCommand: perCall(others, calls),
    commandsInsideScriptsPerCall: inScripts / calls,
    commandstatsPerCall: commandstats,
    connections: {
      // CLIENT LIST entries whose port is one of the app process's sockets, at most at once.
      app: maxApp,
      appAfter: after.app,
      // Distinct connections the app's commands came from during the calls (MONITOR).
      usedDuringCalls: usedPorts.size,
      allClients: after.all,
    },
  };
}
