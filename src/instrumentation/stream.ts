import type { Call } from './call';

const wrapped = new WeakSet<object>();

interface SdkStream {
  iterator?: (...args: unknown[]) => AsyncIterator<unknown>;
  controller?: { signal?: AbortSignal };
}

/**
 * Observes an SDK `Stream` in place. The instance keeps its class and every helper (`tee()`,
 * `toReadableStream()`, `controller`); only its `iterator` factory is wrapped, so every way of
 * reading it passes through here. The first iteration owns the telemetry; a second one reaches
 * the SDK's own iterator and fails exactly as it would without us.
 */
export function observeStream<T>(stream: T, call: Call): T {
  const s = stream as unknown as SdkStream;
  if (!s || typeof s.iterator !== 'function' || wrapped.has(s)) return stream;
  wrapped.add(s);
  const original = s.iterator;
  let claimed = false;
  s.iterator = function (this: unknown, ...args: unknown[]) {
    const inner = original.apply(this, args);
    if (claimed) return inner;
    claimed = true;
    return observedIterator(inner, call, s.controller?.signal);
  };
  return stream;
}

function observedIterator(inner: AsyncIterator<unknown>, call: Call, signal: AbortSignal | undefined): AsyncIterator<unknown> {
  const onResult = (r: IteratorResult<unknown>): IteratorResult<unknown> | Promise<IteratorResult<unknown>> => {
    if (r.done) {
      call.streamEnded(signal?.aborted ? 'aborted' : 'completed');
      return r;
    }
    // Hidden chunks (our injected usage chunk) are skipped: read the next one instead.
    return call.chunk(r.value) ? inner.next().then(onResult, onError) : r;
  };
  const onError = (err: unknown): never => {
    // The SDK aborts its controller on any early end, so the signal cannot tell an abort from a
    // failure here: the error itself does (an app's abort ends the SDK's loop quietly, or as an abort error).
    if (isAbortError(err)) {
      call.streamEnded('aborted', err);
      throw err;
    }
    // A stream cut off mid-body: the app sees the SDK's APIConnectionError, not a raw TypeError.
    const error = call.asSdkError(err);
    call.streamEnded('error', error);
    throw error;
  };
  return {
    next: () => inner.next().then(onResult, onError),
    return: (value?: unknown) => {
      call.streamEnded('broken');
      return inner.return ? inner.return(value) : Promise.resolve({ done: true, value });
    },
    throw: (err?: unknown) => {
      call.streamEnded('error', err);
      return inner.throw ? inner.throw(err) : Promise.reject(err);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  } as AsyncIterator<unknown>;
}

function isAbortError(err: unknown): boolean {
  const e = err as { name?: unknown; constructor?: { name?: unknown } } | undefined;
  return e?.name === 'AbortError' || e?.constructor?.name === 'APIUserAbortError';
}
