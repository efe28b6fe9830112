import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSink } from '../../src/audit/file-sink';
import { auditEvent, ocsfApiActivitySchema } from '../../src/audit/ocsf';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'llm-governor-audit-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const source = { serviceName: 'load-test', hostname: 'h', productVersion: '0.1.0' };
const event = (i: number) =>
  auditEvent('call_completed', {
    source,
    eventId: `e-${i}`,
    operation: 'chat',
    provider: 'openai',
    model: 'gpt-4o-mini',
    usage: { promptTokens: i % 500, completionTokens: 7 },
    costUsd: 0.000001 * i,
  });

/** Every line of `file` and its rotated siblings, oldest file first. */
function readAll(file: string): { lines: string[]; files: string[] } {
  const base = path.basename(file);
  const rotated = fs
    .readdirSync(path.dirname(file))
    .filter((n) => n.startsWith(`${base}.`))
    .map((n) => Number(n.slice(base.length + 1)))
    .sort((a, b) => b - a)
    .map((n) => `${file}.${n}`);
  const files = [...rotated, ...(fs.existsSync(file) ? [file] : [])];
  const lines: string[] = [];
  for (const f of files) {
    const text = fs.readFileSync(f, 'utf8');
    if (text === '') continue;
    expect(text.endsWith('\n'), `${f} ends mid-line`).toBe(true);
    lines.push(...text.slice(0, -1).split('\n'));
  }
  return { lines, files };
}

const ids = (lines: string[]) => lines.map((l) => JSON.parse(l).metadata.uid as string);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('FileSink', () => {
  it('10 000 events/s for 5 s are all on disk after flush, in order, each a valid OCSF event', async () => {
    const file = path.join(dir, 'audit.jsonl');
    let dropped = 0;
    const errors: unknown[] = [];
    const sink = new FileSink({ path: file, onDrop: (n) => (dropped += n), onError: (e) => errors.push(e) });
    const perTick = 100; // every 10 ms
    const total = 50_000;
    const start = Date.now();
    let worstWriteMs = 0;
    for (let i = 0; i < total; ) {
      const t0 = performance.now();
      for (let j = 0; j < perTick; j++, i++) sink.write(event(i));
      worstWriteMs = Math.max(worstWriteMs, performance.now() - t0);
      const due = start + (i / perTick) * 10;
      await sleep(Math.max(0, due - Date.now()));
    }
    const elapsed = Date.now() - start;
    await sink.flush();

    expect(elapsed).toBeGreaterThanOrEqual(4_900);
    expect(dropped).toBe(0);
    expect(errors).toEqual([]);
    const { lines } = readAll(file);
    expect(lines.length).toBe(total);
    const got = ids(lines);
    expect(got[0]).toBe('e-0');
    expect(got[total - 1]).toBe(`e-${total - 1}`);
    expect(new Set(got).size).toBe(total);
    for (const l of [lines[0]!, lines[12_345]!, lines[total - 1]!]) expect(ocsfApiActivitySchema.safeParse(JSON.parse(l)).success).toBe(true);
    expect(sink.counters()).toMatchObject({ written: total, dropped: 0, errors: 0 });
    // enqueuing 100 events never held the caller up for long (generous bound for slow CI)
    expect(worstWriteMs).toBeLessThan(250);
    await sink.close();
  }, 30_000);

  it('rotation keeps every event: the sum over all files is every line, each file within maxBytes', async () => {
    const file = path.join(dir, 'audit.jsonl');
    const maxBytes = 64 * 1024;
    const sink = new FileSink({ path: file, maxBytes, maxFiles: 1000 });
    const total = 20_000;
    for (let i = 0; i < total; i++) {
      sink.write(event(i));
      if (i % 1000 === 0) await new Promise((r) => setImmediate(r)); // rotate while writes arrive
    }
    await sink.flush();
    const { lines, files } = readAll(file);
    expect(files.length).toBeGreaterThan(10);
    expect(sink.counters().rotations).toBe(files.length - 1);
    for (const f of files) expect(fs.statSync(f).size).toBeLessThanOrEqual(maxBytes);
    expect(lines.length).toBe(total);
    expect(ids(lines)).toEqual(Array.from({ length: total }, (_, i) => `e-${i}`));
    await sink.close();
  });

  it('keeps at most maxFiles rotated files, newest events last', async () => {
    const file = path.join(dir, 'audit.jsonl');
    const sink = new FileSink({ path: file, maxBytes: 4096, maxFiles: 3 });
    for (let i = 0; i < 2_000; i++) sink.write(event(i));
    await sink.flush();
    const { lines, files } = readAll(file);
    expect(files.map((f) => path.basename(f))).toEqual(['audit.jsonl.3', 'audit.jsonl.2', 'audit.jsonl.1', 'audit.jsonl']);
    const got = ids(lines);
    expect(got[got.length - 1]).toBe('e-1999');
    // what is left is a contiguous, ordered run of the newest events
    const first = Number(got[0]!.slice(2));
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => `e-${first + i}`));
    await sink.close();
  });

  it('a line larger than maxBytes gets a file of its own, not a loop', async () => {
    const file = path.join(dir, 'audit.jsonl');
    const sink = new FileSink({ path: file, maxBytes: 200, maxFiles: 10 });
    sink.write({ small: 1 });
    sink.write({ big: 'x'.repeat(1000) });
    sink.write({ small: 2 });
    await sink.flush();
    const { lines } = readAll(file);
    expect(lines.map((l) => Object.keys(JSON.parse(l))[0])).toEqual(['small', 'big', 'small']);
    await sink.close();
  });

  it('flushSync right after writes puts everything on disk without awaiting', () => {
    const file = path.join(dir, 'audit.jsonl');
    const sink = new FileSink({ path: file });
    for (let i = 0; i < 5_000; i++) sink.write(event(i));
    sink.flushSync();
    const { lines } = readAll(file);
    expect(ids(lines)).toEqual(Array.from({ length: 5_000 }, (_, i) => `e-${i}`));
    expect(sink.pending).toBe(0);
  });

  it('flushSync while an async batch is in flight loses nothing and writes nothing twice', async () => {
    const file = path.join(dir, 'audit.jsonl');
    const sink = new FileSink({ path: file, maxBatchBytes: 16 * 1024 });
    let n = 0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 500; i++) sink.write(event(n++));
      // let the drain start: open / fstat / write are in the thread pool now
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      if (round % 5 === 4) sink.flushSync();
    }
    sink.flushSync();
    await sleep(50); // any async write still in flight lands now
    await sink.flush();
    const got = ids(readAll(file).lines);
    expect(new Set(got).size).toBe(n);
    expect(got.length).toBe(n);
    await sink.close();
  });

  it('a failing disk is counted and retried, never thrown; the events land once it recovers', async () => {
    const sub = path.join(dir, 'not-yet');
    const file = path.join(sub, 'audit.jsonl');
    const errors: unknown[] = [];
    const sink = new FileSink({ path: file, retryMinMs: 5, retryMaxMs: 20, onError: (e) => errors.push(e) });
    for (let i = 0; i < 100; i++) expect(sink.write(event(i))).toBe(true);
    await sink.flush(); // resolves after the failed attempt: never hangs, never rejects
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect((errors[0] as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(sink.pending).toBe(100);
    await sleep(60);
    expect(errors.length).toBeGreaterThan(1); // retried
    expect(sink.counters().errors).toBe(errors.length);

    fs.mkdirSync(sub);
    for (let i = 0; i < 50 && sink.pending > 0; i++) await sleep(10);
    await sink.flush();
    expect(ids(readAll(file).lines)).toEqual(Array.from({ length: 100 }, (_, i) => `e-${i}`));
    await sink.close();
  });

  it('flushSync to a failing disk counts the error and keeps the events', () => {
    const file = path.join(dir, 'missing', 'audit.jsonl');
    const errors: unknown[] = [];
    const sink = new FileSink({ path: file, onError: (e) => errors.push(e) });
    sink.write(event(1));
    expect(() => sink.flushSync()).not.toThrow();
    expect(errors.length).toBe(1);
    expect(sink.pending).toBe(1);
    fs.mkdirSync(path.dirname(file));
    sink.flushSync();
    expect(ids(readAll(file).lines)).toEqual(['e-1']);
  });

  it('a full queue drops and counts, and never blocks or throws', async () => {
    const file = path.join(dir, 'nowhere', 'audit.jsonl');
    let dropped = 0;
    const sink = new FileSink({ path: file, maxQueue: 10, retryMinMs: 1_000, onDrop: (n) => (dropped += n), onError: () => undefined });
    const accepted = Array.from({ length: 25 }, (_, i) => sink.write(event(i)));
    expect(accepted.filter(Boolean).length).toBe(10);
    expect(dropped).toBe(15);
    expect(sink.counters().dropped).toBe(15);
    await sink.flush();
    expect(sink.pending).toBe(10);
  });

  it('an event that cannot be serialised, or a throwing callback, never reaches the caller', () => {
    const file = path.join(dir, 'audit.jsonl');
    const sink = new FileSink({
      path: file,
      onError: () => {
        throw new Error('callback bug');
      },
      onDrop: () => {
        throw new Error('callback bug');
      },
    });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(sink.write(circular)).toBe(false);
    expect(sink.write({ big: BigInt(1) })).toBe(false);
    expect(sink.write(undefined)).toBe(false);
    expect(sink.counters()).toMatchObject({ dropped: 3, errors: 3 });
    expect(sink.write({ ok: true })).toBe(true);
    sink.flushSync();
    expect(readAll(file).lines).toEqual(['{"ok":true}']);
  });
});
