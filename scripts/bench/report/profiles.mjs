// The profile sections: per profiled configuration, where its added self time goes, as text for
// the console or Markdown for BENCHMARKS.md (the same tables; Markdown shows every row).
import { fmt, fmtSigned } from '../lib/stats.mjs';
import { label, mdTable, textTable } from './tables.mjs';

const profileLabel = (results, id) => (id.endsWith('-streams') ? `${label(results, id.slice(0, -8))}, streamed chunks` : label(results, id));
const refProfile = (results, id) => results.profiles?.[id.endsWith('-streams') ? 'bare-streams' : 'bare'];

/** The profiles to show: not the bare references, not the failed ones. */
export const shownProfiles = (results) => Object.entries(results.profiles ?? {}).filter(([id, p]) => !p.error && !id.startsWith('bare'));

/** The four tables of one profile; `md`: every row, function names as code. */
function profileTables(p, { md }) {
  const u = p.unit ?? 'call';
  const cut = (list, n) => (md ? list : list.slice(0, n));
  const code = (name) => (md ? `\`${name}\`` : name);
  const at = (f) => `${f.file}:${f.line}`;
  const v = p.vsBare;
  return {
    areas: v && {
      head: ['owner', `µs/${u}`, `bare µs/${u}`, 'added'],
      rows: v.ownerAreas
        .filter((a) => Math.abs(a.addedUs) >= 0.05)
        .slice(0, md ? 14 : 12)
        .map((a) => [a.area, fmt(a.perCallUs), fmt(a.refPerCallUs), fmtSigned(a.addedUs)]),
      align: ['l'],
    },
    owners: v && { head: ['owning function (most added)', 'file:line', `added µs/${u}`], rows: cut(v.owners, 15).map((f) => [code(f.function), at(f), fmtSigned(f.addedUs)]), align: ['l', 'l'] },
    functions: v && {
      head: [md ? 'function' : 'function (most added self time)', 'file:line', 'area', `added µs/${u}`],
      rows: cut(v.functions, 12).map((f) => [code(f.function), at(f), f.area, fmtSigned(f.addedUs)]),
      align: ['l', 'l', 'l'],
    },
    ours: {
      head: [md ? 'function' : 'our function (self time)', md ? 'file:line (dist)' : 'file:line', `µs/${u}`, 'share'],
      rows: cut(p.topOurs, 10).map((f) => [code(f.function), at(f), fmt(f.perCallUs), `${(f.share * 100).toFixed(1)}%`]),
      align: ['l', 'l'],
    },
  };
}

/** Console lines. */
export function profileText(results) {
  const out = [];
  for (const [id, p] of shownProfiles(results)) {
    const u = p.unit ?? 'call';
    const t = profileTables(p, { md: false });
    out.push('');
    out.push(`Profile of ${profileLabel(results, id)} (${p.calls} ${u}s; sampled self time ${fmt(p.perCallUs)} µs per ${u}, bare ${fmt(refProfile(results, id)?.perCallUs)})`);
    if (p.vsBare) {
      out.push(`Added self time per ${u} vs the bare SDK, charged to the package (or our code) that asked for it:`);
      out.push(textTable(t.areas), '', textTable(t.owners), '', textTable(t.functions), '');
    }
    out.push(textTable(t.ours));
  }
  return out;
}

/** Markdown lines: a subsection per profile. */
export function profileMarkdown(results) {
  const L = [];
  for (const [id, p] of shownProfiles(results)) {
    const u = p.unit ?? 'call';
    const t = profileTables(p, { md: true });
    L.push(`### ${profileLabel(results, id)}`, '');
    L.push(
      `Sampled self time: ${fmt(p.perCallUs)} µs per ${u} in all (the app, the SDK, Node's fetch, the OpenTelemetry SDK, GC), of which ${fmt(p.oursTotalUs / p.calls)} µs in llm-governor's own code; the bare SDK's profile: ${fmt(refProfile(results, id)?.perCallUs)} µs per ${u}.` +
        (p.windowed ? '' : " (The measured window could not be matched with the profile's clock: the whole process is counted, start-up included.)"),
      '',
    );
    if (p.vsBare) {
      L.push(
        `Where the added time goes: self time per ${u}, this profile minus the bare SDK's, charged to the package (or our code) that asked for it — the nearest frame on the stack outside Node's internals, so that time in Node's fetch, streams, timers and sockets counts for whoever called them:`,
        '',
      );
      L.push(mdTable(t.areas), '', mdTable(t.owners), '');
      L.push('The same by the function that was running (self time, not charged to a caller):', '', mdTable(t.functions), '');
    }
    L.push('Top self time in our code:', '', mdTable(t.ours), '');
  }
  return L;
}
