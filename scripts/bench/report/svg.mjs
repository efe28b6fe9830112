// bench/overhead.svg: added time per non-streaming call, drawn by hand (no dependencies).
import { fmt, fmtSigned } from '../lib/stats.mjs';
import { isReference, label } from './tables.mjs';

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function overheadSvg(results) {
  const rows = Object.entries(results.chat)
    .filter(([id]) => !isReference(results, id))
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
  parts.push(
    `<text x="${width / 2}" y="40" text-anchor="middle" fill="#555">${esc(`${results.machine.cpuModel}, ${results.machine.cores} cores, Node ${results.machine.node}, openai ${results.versions.openai}; simulator at zero latency`)}</text>`,
  );
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
