// Summaries of V8 CPU profiles written by `node --cpu-prof`: self time per function, and per
// area (our code, each package, Node internals, GC), optionally restricted to a time window.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { relative, sep } from 'node:path';

function plainPath(url) {
  if (!url) return '';
  if (url.startsWith('file://')) {
    try {
      return fileURLToPath(url);
    } catch {
      return url;
    }
  }
  return url;
}

function areaOf(path, functionName, repoRoot) {
  if (!path) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(program)' || functionName === '(idle)' || functionName === '(root)') return functionName;
    return 'V8 builtins / native';
  }
  if (path.startsWith('node:') || !path.includes(sep)) return 'Node.js internals';
  const nm = path.lastIndexOf(`${sep}node_modules${sep}`);
  if (nm >= 0) {
    const rest = path.slice(nm + 14).split(sep);
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (path.startsWith(`${repoRoot}${sep}dist${sep}`)) return 'llm-governor (dist/)';
  if (path.startsWith(`${repoRoot}${sep}scripts${sep}bench${sep}`)) return 'benchmark app';
  return 'other';
}

/**
 * Self time per function from a .cpuprofile. `window` ({ startUs, endUs } on the same monotonic
 * clock as the profile's timestamps) keeps only samples inside it; when the window does not
 * overlap the profile at all, the whole profile is used and `windowed` is false.
 */
export function summarizeProfile(file, { repoRoot, window, calls, top = 15 }) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  let t = prof.startTime;
  let inWindow = 0;
  const samples = prof.samples;
  const deltas = prof.timeDeltas;
  const times = new Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i] ?? 0;
    times[i] = t;
    if (window && t >= window.startUs && t <= window.endUs) inWindow++;
  }
  const windowed = !!window && inWindow > 10;
  // Each sample's weight is the time to the next sample (as DevTools counts it).
  for (let i = 0; i < samples.length; i++) {
    if (windowed && (times[i] < window.startUs || times[i] > window.endUs)) continue;
    const dt = i + 1 < samples.length ? (deltas[i + 1] ?? 0) : 0;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + dt);
  }
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // The owner of a sample: the nearest frame on its stack that is in a package or in our code
  // (not Node's internals or a V8 builtin), so that time spent inside Node (fetch, sockets,
  // streams, timers) is charged to whoever asked for it.
  const ownerCache = new Map();
  const ownerOf = (id) => {
    if (ownerCache.has(id)) return ownerCache.get(id);
    let cur = id;
    let owner;
    while (cur !== undefined) {
      const n = nodes.get(cur);
      const path = plainPath(n.callFrame.url);
      if (path && !path.startsWith('node:') && path.includes(sep)) {
        owner = n;
        break;
      }
      cur = parent.get(cur);
    }
    ownerCache.set(id, owner);
    return owner;
  };
  const byOwner = new Map();
  const byFunction = new Map();
  const byArea = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = nodes.get(id);
    if (!node) continue;
    const cf = node.callFrame;
    const path = plainPath(cf.url);
    const name = cf.functionName || '(anonymous)';
    if (name === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const area = areaOf(path, name, repoRoot);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
    const where = path?.startsWith(repoRoot) ? relative(repoRoot, path) : path;
    const key = `${name}\u0000${where}:${cf.lineNumber + 1}`;
    const entry = byFunction.get(key) ?? { function: name, file: where, line: cf.lineNumber + 1, area, selfUs: 0 };
    entry.selfUs += us;
    byFunction.set(key, entry);
    const owner = ownerOf(id);
    const oKey = owner ? `${owner.callFrame.functionName || '(anonymous)'}\u0000${owner.callFrame.url}:${owner.callFrame.lineNumber}` : `(no owner: ${area})`;
    let o = byOwner.get(oKey);
    if (!o) {
      const op = owner ? plainPath(owner.callFrame.url) : '';
      o = owner
        ? {
            function: owner.callFrame.functionName || '(anonymous)',
            file: op.startsWith(repoRoot) ? relative(repoRoot, op) : op,
            line: owner.callFrame.lineNumber + 1,
            area: areaOf(op, owner.callFrame.functionName, repoRoot),
            selfUs: 0,
          }
        : { function: `(no package frame: ${area})`, file: '', line: 0, area, selfUs: 0 };
      byOwner.set(oKey, o);
    }
    o.selfUs += us;
  }
  const ownerAreas = new Map();
  for (const o of byOwner.values()) ownerAreas.set(o.area, (ownerAreas.get(o.area) ?? 0) + o.selfUs);
  const perCall = (us) => (calls ? us / calls : undefined);
  const functions = [...byFunction.values()].sort((a, b) => b.selfUs - a.selfUs);
  const ours = functions.filter((f) => f.area === 'llm-governor (dist/)');
  const decorate = (f) => ({ ...f, share: f.selfUs / total, perCallUs: perCall(f.selfUs) });
  return {
    file,
    windowed,
    calls,
    totalUs: total,
    idleUs: idle,
    perCallUs: perCall(total),
    areas: [...byArea.entries()].map(([area, us]) => ({ area, selfUs: us, share: us / total, perCallUs: perCall(us) })).sort((a, b) => b.selfUs - a.selfUs),
    topOurs: ours.slice(0, top).map(decorate),
    topAll: functions.slice(0, top).map(decorate),
    oursTotalUs: ours.reduce((a, f) => a + f.selfUs, 0),
    // Time charged to the package (or our code) that asked for it, Node internals included.
    ownerAreas: [...ownerAreas.entries()].map(([area, us]) => ({ area, selfUs: us, share: us / total, perCallUs: perCall(us) })).sort((a, b) => b.selfUs - a.selfUs),
    // Every function, for comparisons with another profile (not written to results.json).
    all: functions,
    allOwners: [...byOwner.values()],
  };
}

/**
 * Where a configuration's added time goes: per area and per function, self time per call minus
 * the reference's (the bare SDK's profile). Functions are matched by name, file and line.
 */
export function diffProfiles(p, ref, top = 15) {
  const refAreas = new Map(ref.areas.map((a) => [a.area, a.perCallUs]));
  const areas = p.areas
    .map((a) => ({ area: a.area, perCallUs: a.perCallUs, refPerCallUs: refAreas.get(a.area) ?? 0, addedUs: a.perCallUs - (refAreas.get(a.area) ?? 0) }))
    .concat(ref.areas.filter((a) => !p.areas.some((b) => b.area === a.area)).map((a) => ({ area: a.area, perCallUs: 0, refPerCallUs: a.perCallUs, addedUs: -a.perCallUs })))
    .sort((a, b) => b.addedUs - a.addedUs);
  const key = (f) => `${f.function}\u0000${f.file}:${f.line}`;
  const refFns = new Map(ref.all.map((f) => [key(f), f.selfUs / ref.calls]));
  const functions = p.all
    .map((f) => ({ function: f.function, file: f.file, line: f.line, area: f.area, perCallUs: f.selfUs / p.calls, addedUs: f.selfUs / p.calls - (refFns.get(key(f)) ?? 0) }))
    .sort((a, b) => b.addedUs - a.addedUs)
    .slice(0, top);
  const refOwners = new Map(ref.allOwners.map((f) => [key(f), f.selfUs / ref.calls]));
  const owners = p.allOwners
    .map((f) => ({ function: f.function, file: f.file, line: f.line, area: f.area, perCallUs: f.selfUs / p.calls, addedUs: f.selfUs / p.calls - (refOwners.get(key(f)) ?? 0) }))
    .sort((a, b) => b.addedUs - a.addedUs)
    .slice(0, top);
  const refOwnerAreas = new Map(ref.ownerAreas.map((a) => [a.area, a.perCallUs]));
  const ownerAreas = p.ownerAreas
    .map((a) => ({ area: a.area, perCallUs: a.perCallUs, refPerCallUs: refOwnerAreas.get(a.area) ?? 0, addedUs: a.perCallUs - (refOwnerAreas.get(a.area) ?? 0) }))
    .sort((a, b) => b.addedUs - a.addedUs);
  return { totalAddedUs: p.perCallUs - ref.perCallUs, areas, functions, owners, ownerAreas };
}
