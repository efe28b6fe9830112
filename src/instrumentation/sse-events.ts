/**
 * Server-sent events read incrementally from the bytes of a response body, as a client reads
 * them, and passed on unchanged: each complete event is handed to `onEvent` with its `data`
 * parsed, and its own bytes are passed on as they came, unless `onEvent` drops the event or
 * changed the parsed value (then the event is written again from it). Nothing is buffered
 * beyond the event being read. Pure: no I/O, no telemetry.
 */

/** What to do with one event: pass its bytes as they came, drop it, or write it again. */
export type EventVerdict = 'pass' | 'drop' | 'rewrite';

/** An event's parsed `data` (a JSON value; `[DONE]` and other text are not handed over). */
export type OnEvent = (data: unknown) => EventVerdict;

const LF = 0x0a;
const CR = 0x0d;
const encoder = new TextEncoder();

/** The index just past the blank line ending the first event in `buf` from `from`, or -1. */
function eventEnd(buf: Uint8Array, from = 0): number {
  for (let i = from; i < buf.length; i++) {
    if (buf[i] !== LF) continue;
    if (buf[i + 1] === LF) return i + 2;
    if (buf[i + 1] === CR && buf[i + 2] === LF) return i + 3;
  }
  return -1;
}

/** The `data:` lines of one event, joined as the SSE format joins them. */
function eventData(text: string): string | undefined {
  let data: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith('data:')) continue;
    const v = line.charCodeAt(5) === 0x20 ? line.slice(6) : line.slice(5);
    data = data === undefined ? v : `${data}\n${v}`;
  }
  return data;
}

/** One event written again: its other lines as they were, its data from `value`. */
function rewritten(text: string, value: unknown): Uint8Array {
  const other = text.split(/\r?\n/).filter((l) => l !== '' && !l.startsWith('data:'));
  return encoder.encode(`${other.map((l) => `${l}\n`).join('')}data: ${JSON.stringify(value)}\n\n`);
}

export class SseEvents {
  private pending: Uint8Array = new Uint8Array(0);
  private readonly decoder = new TextDecoder();

  constructor(private readonly onEvent: OnEvent) {}

  /** Bytes as they arrive; returns what to pass on now (complete events only). */
  push(bytes: Uint8Array): Uint8Array[] {
    const buf = this.pending.length ? concat(this.pending, bytes) : bytes;
    const out: Uint8Array[] = [];
    let start = 0;
    let passFrom = 0;
    for (let end = eventEnd(buf, start); end !== -1; end = eventEnd(buf, start)) {
      const raw = buf.subarray(start, end);
      const verdict = this.judge(raw);
      if (verdict !== 'pass') {
        if (start > passFrom) out.push(buf.subarray(passFrom, start));
        if (verdict !== 'drop') out.push(verdict);
        passFrom = end;
      }
      start = end;
    }
    if (start > passFrom) out.push(buf.subarray(passFrom, start));
    this.pending = start < buf.length ? buf.slice(start) : new Uint8Array(0);
    return out;
  }

  /** The body ended: whatever is left (an event without its blank line) goes on as it is. */
  end(): Uint8Array[] {
    const rest = this.pending;
    this.pending = new Uint8Array(0);
    if (rest.length === 0) return [];
    const verdict = this.judge(rest);
    if (verdict === 'drop') return [];
    return [verdict === 'pass' ? rest : verdict];
  }

  private judge(raw: Uint8Array): 'pass' | 'drop' | Uint8Array {
    const text = this.decoder.decode(raw);
    const data = eventData(text);
    if (data === undefined || data === '[DONE]') return 'pass';
    let value: unknown;
    try {
      value = JSON.parse(data);
    } catch {
      return 'pass';
    }
    let verdict: EventVerdict = 'pass';
    try {
      verdict = this.onEvent(value);
    } catch {
      /* an observer's fault never changes the stream */
    }
    return verdict === 'rewrite' ? rewritten(text, value) : verdict;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
