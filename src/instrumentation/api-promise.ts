import type { Call } from './call';
import { holdWhileAlive } from './holders';
import { observeStream } from './stream';

type ParseFn = (...args: unknown[]) => unknown;

interface SdkApiPromise {
  responsePromise: Promise<{ response?: { status?: number } }>;
  parseResponse: ParseFn;
  _thenUnwrap?: (transform: (data: unknown, props: unknown) => unknown) => SdkApiPromise;
  asResponse?: () => Promise<unknown>;
  withResponse?: () => Promise<unknown>;
}

/** APIPromises and Streams whose call never saw a result end as `unread` when they are garbage. */
const track = holdWhileAlive;

/**
 * Observes the SDK's own `APIPromise` without ever calling `.then` on it (that would trigger its
 * lazy parse early and break `.parse()` / `.withResponse()`). It stays the object the app gets:
 * only instance fields are wrapped, so all of its helpers keep working.
 *
 * - `responsePromise` (side chain): HTTP failures after the SDK's retries, and pre-send rejections.
 * - `parseResponse`: the parsed result, or the `Stream` to observe in place.
 * - `_thenUnwrap`: openai 7 overrides it per instance with a closure over the original parse, so
 *   derived promises (`responses.create`, `.parse()` helpers) are observed through the transform.
 */
export function observeApiPromise<P>(promise: P, call: Call): P {
  const p = promise as unknown as SdkApiPromise;
  if (!p || typeof p.parseResponse !== 'function' || !p.responsePromise) {
    return promise;
  }
  p.responsePromise.then(undefined, (err: unknown) => call.failed(err));
  observeParse(p, call);
  observeRaw(p, call);
  track(p, call);
  return promise;
}

/**
 * `asResponse()`: the app takes the answer raw and the SDK never parses it, so the call ends from
 * the body (see `raw-answer.ts`). `withResponse()` calls `asResponse()` itself, next to `parse()`:
 * the parse observes that call, and the raw response is left as it is.
 */
function observeRaw(p: SdkApiPromise, call: Call): void {
  const asResponse = p.asResponse;
  const withResponse = p.withResponse;
  if (typeof asResponse !== 'function') return;
  let parsing = false;
  if (typeof withResponse === 'function') {
    p.withResponse = function (this: unknown, ...args: unknown[]) {
      parsing = true;
      try {
        return (withResponse as (...a: unknown[]) => Promise<unknown>).apply(this, args);
      } finally {
        parsing = false;
      }
    };
  }
  p.asResponse = function (this: unknown, ...args: unknown[]) {
    const raw = (asResponse as (...a: unknown[]) => Promise<unknown>).apply(this, args);
    if (parsing) return raw;
    // The app now holds the answer to come, not this APIPromise (which it may drop at once): the
    // call is not unread while the answer is on its way, and then as long as the response lives.
    call.addHolder();
    return raw.then(
      (response) => {
        const out = call.tookRaw(response); // a raw body being read holds the call itself
        call.releaseHolder();
        return out;
      },
      (err: unknown) => {
        call.releaseHolder();
        throw err;
      },
    );
  };
}

function observeParse(p: SdkApiPromise, call: Call): void {
  const parse = p.parseResponse;
  p.parseResponse = function (this: unknown, ...args: unknown[]) {
    let out: unknown;
    try {
      out = parse.apply(this, args);
    } catch (err) {
      call.failed(err);
      throw err;
    }
    return Promise.resolve(out).then(
      (result) => observeResult(result, call),
      (err) => {
        call.failed(err);
        throw err;
      },
    );
  };
  const thenUnwrap = p._thenUnwrap;
  if (typeof thenUnwrap === 'function') {
    p._thenUnwrap = function (this: unknown, transform) {
      const derived = thenUnwrap.call(this, (data: unknown, props: unknown) => transform(observeResult(data, call), props));
      if (derived && typeof derived.parseResponse === 'function') {
        observeParse(derived, call);
        observeRaw(derived, call);
        track(derived, call);
      }
      return derived;
    };
  }
}

function observeResult<T>(result: T, call: Call): T {
  if (isSdkStream(result)) {
    track(result as object, call);
    return observeStream(result, call);
  }
  return call.succeeded(result);
}

function isSdkStream(v: unknown): boolean {
  return !!v && typeof v === 'object' && typeof (v as { iterator?: unknown }).iterator === 'function' && 'controller' in v;
}
