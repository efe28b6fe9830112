/**
 * An answer the app takes raw (`.asResponse()`): the SDK never parses it, so the call learns its
 * usage from the body itself, and ends when the app has its answer.
 *
 * - A JSON body we already read whole (our send step reads every JSON answer): the call ends at
 *   once, with the usage of that body.
 * - A stream (server-sent events): the body the app reads is observed as it reads it, event by
 *   event, with every byte passed on as the provider sent it, except what our own asking for
 *   usage added (see the operation's chunk observer). The call ends at the end of the body, when
 *   the app cancels it, or when the body fails.
 * - Another JSON body (an upload's answer): observed as it is read, parsed at its end.
 * - Anything else (audio bytes): the call ends at once; its usage never comes from the body.
 *
 * A body the app never reads ends the call when the response is garbage (`api-promise.ts`).
 */
import { Transform } from 'node:stream';
import { holdWhileAlive } from './holders';
import { SseEvents } from './sse-events';
import { delegateBody, isReadWhole } from '../pipeline/wire';

/** What the raw observer needs of a call. */
export interface RawAnswerCall {
  readonly isFinished: boolean;
  /** The JSON value of a body read whole by the send step. */
  readonly answerValue: unknown;
  succeeded<T>(result: T): T;
  /** One parsed event; true when the app must not see it. */
  chunk(value: unknown): boolean;
  streamEnded(outcome: 'completed' | 'broken' | 'aborted' | 'error', error?: unknown): void;
  addHolder(): void;
  releaseHolder(): void;
}

interface BodyHooks {
  push(bytes: Uint8Array): Uint8Array[];
  end(): Uint8Array[];
  done(): void;
  failed(err: unknown): void;
  cancelled(): void;
}

const MAX_JSON_BYTES = 8 * 1024 * 1024;

export function observeRawAnswer<R>(response: R, call: RawAnswerCall): R {
  const res = response as unknown as Response;
  if (!res || typeof res !== 'object' || call.isFinished) return response;
  if (isReadWhole(res) && call.answerValue !== undefined) {
    call.succeeded(call.answerValue);
    return response;
  }
  const type = res.headers?.get?.('content-type') ?? '';
  const body = res.body as unknown;
  if (!body) {
    call.succeeded(undefined);
    return response;
  }
  const hooks = type.includes('text/event-stream') ? streamHooks(call) : type.includes('application/json') ? jsonHooks(call) : undefined;
  if (!hooks) {
    call.succeeded(undefined);
    return response;
  }
  const observed = isWebStream(body) ? webBody(body, hooks) : isNodeStream(body) ? nodeBody(body, hooks) : undefined;
  if (!observed) {
    call.succeeded(undefined);
    return response;
  }
  // The observed body is what the app reads through (its reader holds it while reading); when it
  // is garbage unread, the call ends as unread.
  holdWhileAlive(observed, call);
  return delegateBody(res, observed) as unknown as R;
}

function streamHooks(call: RawAnswerCall): BodyHooks {
  const events = new SseEvents((value) => {
    const hadUsage = !!value && typeof value === 'object' && 'usage' in value;
    if (call.chunk(value)) return 'drop';
    return hadUsage && !('usage' in (value as object)) ? 'rewrite' : 'pass';
  });
  return {
    push: (b) => events.push(b),
    end: () => events.end(),
    done: () => call.streamEnded('completed'),
    failed: (err) => call.streamEnded((err as { name?: unknown })?.name === 'AbortError' ? 'aborted' : 'error', err),
    cancelled: () => call.streamEnded('broken'),
  };
}

function jsonHooks(call: RawAnswerCall): BodyHooks {
  const parts: Uint8Array[] = [];
  let size = 0;
  return {
    push(b) {
      size += b.length;
      if (size <= MAX_JSON_BYTES) parts.push(b);
      return [b];
    },
    end: () => [],
    done() {
      let value: unknown;
      try {
        if (size <= MAX_JSON_BYTES) value = JSON.parse(Buffer.concat(parts).toString('utf8'));
      } catch {
        /* not ours to judge: the app reads it */
      }
      parts.length = 0;
      call.succeeded(value);
    },
    failed: (err) => call.streamEnded('error', err),
    cancelled: () => call.streamEnded('broken'),
  };
}

function isWebStream(body: unknown): body is ReadableStream<Uint8Array> {
  return typeof (body as ReadableStream).getReader === 'function';
}

function isNodeStream(body: unknown): body is NodeJS.ReadableStream {
  return typeof (body as NodeJS.ReadableStream).pipe === 'function' && typeof (body as NodeJS.ReadableStream).on === 'function';
}

/** A web body (fetch): read from the network as the app pulls. */
function webBody(source: ReadableStream<Uint8Array>, hooks: BodyHooks): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      for (;;) {
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = await reader.read();
        } catch (err) {
          hooks.failed(err);
          ctrl.error(err);
          return;
        }
        if (r.done) {
          for (const c of hooks.end()) ctrl.enqueue(c);
          hooks.done();
          ctrl.close();
          return;
        }
        const out = hooks.push(r.value);
        for (const c of out) ctrl.enqueue(c);
        if (out.length) return;
      }
    },
    cancel(reason) {
      hooks.cancelled();
      return reader.cancel(reason);
    },
  });
}

/** A Node body (openai 4 on node-fetch). */
function nodeBody(source: NodeJS.ReadableStream, hooks: BodyHooks): NodeJS.ReadableStream {
  let ended = false;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      for (const c of hooks.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length))) this.push(c);
      cb();
    },
    flush(cb) {
      for (const c of hooks.end()) this.push(c);
      ended = true;
      hooks.done();
      cb();
    },
  });
  source.on('error', (err: unknown) => {
    ended = true;
    hooks.failed(err);
    t.destroy(err as Error);
  });
  t.on('close', () => {
    if (!ended) hooks.cancelled();
  });
  source.pipe(t);
  return t;
}
