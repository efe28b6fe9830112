// The audit file under load, through the preload's own trail and exit hooks: 10 000 events per
// second for 5 s, all on disk after a normal exit, process.exit(), SIGTERM (with and without the
// app's own handler), with size rotation keeping every event.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ocsfApiActivitySchema } from '../../src/audit/ocsf';
import { REPO, runApp } from '../helpers/run-app';

const APP = resolve(REPO, 'test/fixtures/audit-load-app.cjs');
const AUDIT_MODULE = resolve(REPO, 'dist/audit/index.js');

/** Every line of the audit file and its rotated siblings, oldest file first. */
function allLines(file: string): string[] {
  const dir = resolve(file, '..');
  const base = file.slice(dir.length + 1);
  const rotated = readdirSync(dir)
    .filter((f) => f.startsWith(`${base}.`))
    .map((f) => Number(f.slice(base.length + 1)))
    .sort((a, b) => b - a);
  const files = [...rotated.map((n) => `${file}.${n}`), ...(existsSync(file) ? [file] : [])];
  const lines: string[] = [];
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    expect(text === '' || text.endsWith('\n'), `${f} ends with a whole line`).toBe(true);
    lines.push(...text.split('\n').filter(Boolean));
  }
  return lines;
}

/** The load events on disk: sequence numbers in order, each line a valid OCSF event. */
function sequence(file: string): number[] {
  const seqs: number[] = [];
  const lines = allLines(file);
  lines.forEach((line, i) => {
    const e = JSON.parse(line);
    // Validating 50 000 events costs seconds: check every 97th, and the first and last.
    if (i % 97 === 0 || i === lines.length - 1) expect(ocsfApiActivitySchema.safeParse(e).success).toBe(true);
    const m = /^seq-(\d+)$/.exec(e.metadata.uid);
    if (m) seqs.push(Number(m[1]));
  });
  return seqs;
}

function expectContiguous(seqs: number[], n: number): void {
  expect(seqs.length).toBe(n);
  for (let i = 0; i < seqs.length; i++) if (seqs[i] !== i) expect.fail(`event ${i} is missing or out of order (found ${seqs[i]})`);
}

async function load(end: 'natural' | 'exit' | 'wait' | 'handled', signalAt?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'llm-governor-audit-exit-'));
  const file = join(dir, 'audit.jsonl');
  let recorded = 0;
  let signalled = false;
  const r = await runApp({
    script: APP,
    preload: 'require',
    env: {
      AUDIT_MODULE,
      END: end,
      RATE: '10000',
      SECONDS: '5',
      LLM_GOVERNOR_AUDIT_FILE: file,
      LLM_GOVERNOR_AUDIT_FILE_MAX_MB: '4',
      LLM_GOVERNOR_AUDIT_FILE_MAX_FILES: '50',
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
    },
    timeoutMs: 60_000,
    onSpawn: (child: ChildProcess) => {
      let buf = '';
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const line of lines) {
          const m = /^RECORDED (\d+)$/.exec(line);
          if (m) recorded = Number(m[1]);
          if (signalAt !== undefined && !signalled && (recorded >= signalAt || line === 'DONE')) {
            signalled = true;
            child.kill('SIGTERM');
          }
        }
      });
    },
  });
  const last = [...r.stdout.matchAll(/^RECORDED (\d+)$/gm)].pop();
  return { ...r, file, recorded: last ? Number(last[1]) : 0 };
}

describe('audit file under load, through the preload', () => {
  it('10 000 events/s for 5 s: all on disk after the event loop drains, rotated without loss', async () => {
    const r = await load('natural');
    expect(r.code, r.stderr).toBe(0);
    expect(r.recorded).toBe(50_000);
    expectContiguous(sequence(r.file), 50_000);
    expect(readdirSync(resolve(r.file, '..')).filter((f) => f.startsWith('audit.jsonl.')).length).toBeGreaterThan(3);
    // the preload's own config event is there too
    expect(allLines(r.file).some((l) => l.includes('"config_loaded"'))).toBe(true);
  }, 60_000);

  it('all on disk after process.exit(0)', async () => {
    const r = await load('exit');
    expect(r.code, r.stderr).toBe(0);
    expectContiguous(sequence(r.file), 50_000);
  }, 60_000);

  it('SIGTERM mid-load, no handler of the app: every event recorded before it is on disk, and the process still dies of SIGTERM', async () => {
    const r = await load('wait', 25_000);
    expect(r.signal).toBe('SIGTERM');
    expect(r.recorded).toBeGreaterThanOrEqual(25_000);
    expect(r.recorded).toBeLessThan(50_000);
    expectContiguous(sequence(r.file), r.recorded);
  }, 60_000);

  it("SIGTERM with the app's own handler (which exits): everything on disk, the app's exit code stands", async () => {
    const r = await load('handled', 30_000);
    expect(r.stdout).toContain('APP-SIGTERM');
    expect(r.code).toBe(0);
    expectContiguous(sequence(r.file), r.recorded);
  }, 60_000);
});
