import { AsyncLocalStorage } from 'node:async_hooks';
import { context, createContextKey, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import { asSdkError } from '../errors';
import type { Body, Operation } from '../operations';
import { newRecord, type CallRecord } from '../operations/record';
import { admit } from '../pipeline/admission-order';
import { isPlainBody } from '../pipeline/admission/attribute';
import { errorType } from '../pipeline/error-type';
import type { CallEnd } from '../pipeline/send-layer';
import { send as sendDown } from '../pipeline/send-order';
import type { ProviderInfo } from '../providers/detect';
import { ATTR } from '../semconv';
import { safely } from '../util/safely';
import { AttemptEvents } from './attempt-events';
import { endEvent } from './call-audit';
import { estimateMissingUsage, recordCost } from './call-cost';
import { admittingFor, primaryTarget, scopeFor, type CallParts, type CallState } from './call-ports';
import { CallVoice } from './call-voice';
import { letGo } from './holders';
import { observeRawAnswer } from './raw-answer';
import type { Runtime } from './runtime';
import type { CallAdapter, SendRequest } from './call-adapter';
import { endAttributes, sanitizedException, spanName, startAttributes } from './span-attributes';

export type { Runtime } from './runtime';
export type { CallAdapter, SendRequest } from './call-adapter';

/** Where a call keeps itself in its context, for the send step (see `patch.ts`). */
const CALL_KEY = createContextKey('llm-governor.call');

/**
 * The call whose HTTP exchange runs in this async context: found in the OpenTelemetry context,
 * or, where no context manager carries it (none registered: a hand-`wrap()`ped client), in our
 * own AsyncLocalStorage, which every promise pays for, and so is used only then.
 */
const activeCall = new AsyncLocalStorage<Call>();

export function currentCall(): Call | undefined {
  return (context.active().getValue(CALL_KEY) as Call | undefined) ?? activeCall.getStore();
}

/** Runs `fn` with `call` as the current call (see `currentCall`). */
export function runInCall<T>(call: Call, fn: () => T): T {
  return context.with(call.ctx, () => (context.active() === call.ctx ? fn() : activeCall.run(call, fn)));
}

/** How a call ended, beyond success or failure. */
export type Outcome = CallEnd['outcome'];

/**
 * One logical call, from `client.post()` to its last byte, in three steps:
 *
 *   before  → the admission steps (pipeline/admission-order.ts), inside the SDK's own promise
 *   send    → the send layers (pipeline/send-order.ts), called by the SDK's transport hook
 *   after   → the answer observed (result, stream, raw body), then `finish`, exactly once:
 *             usage (estimated only if the provider gave none), cost, the budgets settled, the
 *             layers' finish callbacks, the audit event, span and metrics
 *
 * Every operation and provider goes through this one class; what the steps and layers may see
 * of it is built in `call-ports.ts`. Every method is safe: a fault in telemetry never reaches
 * the app; a limit we enforce reaches it as one of our `APIError` subclasses, through the SDK's
 * own promise.
 */
export class Call {
  readonly rec: CallRecord;
  readonly span: Span;
  /** The context the SDK's request runs in: our span is active there. */
  readonly ctx: Context;
  private readonly p: CallParts;
  private readonly s: CallState;
  private finished = false;
  /** How the call ended, once it has. */
  private ended?: CallEnd;
  private holders = 0;
  private failure?: unknown;

  constructor(
    private readonly rt: Runtime,
    readonly op: Operation,
    readonly provider: ProviderInfo,
    body: Body | undefined,
    parent: Context,
    /** The way in: the openai SDK's adapter or the process's fetch. */
    readonly adapter: CallAdapter,
  ) {
    const rec = (this.rec = newRecord(op.name, provider.name, body ?? {}));
    rec.serverAddress = provider.serverAddress;
    rec.serverPort = provider.serverPort;
    const span = (this.span = rt.tracer.startSpan(spanName(rec), { kind: SpanKind.CLIENT, attributes: startAttributes(rec) }, parent));
    this.ctx = trace.setSpan(parent, span).setValue(CALL_KEY, this);
    const voice = new CallVoice(rt, provider, rec, span, () => this.s.a);
    this.p = { rt, op, provider, adapter, parent, ctx: this.ctx, rec, span, voice, attempts: new AttemptEvents(span, rec), finishers: [] };
    this.s = { a: admittingFor(this.p, {}, false), ownsRetries: false, maxRetries: 0 };
    rt.open.add(this);
  }

  // ── before: the admission steps (pipeline/admission-order.ts) ─────────────────────────────

  /**
   * Resolves the request options the SDK will send. Runs inside the SDK's own promise, so a
   * rejection here (a limit we enforce) surfaces through the SDK's APIPromise and nothing is sent.
   * Never mutates the caller's params: a changed body is a copy.
   */
  async before<O extends { body?: unknown; maxRetries?: number; timeout?: number; headers?: unknown }>(optsInput: O | Promise<O>): Promise<O> {
    const opts = await optsInput;
    const plain = isPlainBody(opts?.body);
    const s = this.s;
    s.a = admittingFor(this.p, { body: opts?.body, headers: opts?.headers }, plain);
    await admit(s.a);
    const body = s.a.body;
    s.sentBody = plain ? (body ?? (opts.body as Body)) : undefined;
    const out: Record<string, unknown> = body && body !== opts.body ? { ...opts, body } : { ...opts };
    if (plain) {
      // One retry loop: ours, unless the client keeps its own (fetch). The SDK's own loop gets 0 retries.
      const clientRetries = (this.adapter.client as { maxRetries?: unknown })?.maxRetries;
      s.maxRetries = this.adapter.clientRetries ? 0 : (opts.maxRetries ?? this.rt.config.max_retries ?? (typeof clientRetries === 'number' ? clientRetries : 2));
      s.ownsRetries = true;
      out.maxRetries = 0;
    }
    if (opts.timeout === undefined && this.rt.config.timeout_seconds !== undefined) out.timeout = Math.round(this.rt.config.timeout_seconds * 1000);
    return out as O;
  }

  // ── send: the pipeline (pipeline/send-order.ts), with this call as its scope ────────────────

  /**
   * Sends the call down the one send path (cache replay → fallback → retry → rate limit →
   * breaker → transport). Returns the answer the SDK should see; a refusal of ours is an HTTP
   * answer the SDK turns into our error. Throws only what the SDK would have seen from fetch (a
   * connection error, a timeout, the app's own abort).
   */
  send(req: SendRequest): Promise<Response> {
    this.adapter.request = req;
    const primary = primaryTarget(this.p, this.s);
    return sendDown({ target: primary, retry: 0 }, scopeFor(this.p, this.s, req, primary));
  }

  // ── after: the answer observed ───────────────────────────────────────────────────────────

  /** A parsed, non-stream result. Returns it unchanged. */
  succeeded<T>(result: T): T {
    safely(() => {
      if (this.finished) return;
      this.op.readResult(result, this.rec);
      this.captureOutput(result);
      this.finish('completed');
    });
    return result;
  }

  /** The JSON value of the answer's body, when the send step read it whole. */
  get answerValue(): unknown {
    return this.s.answer;
  }

  /** The app took the answer raw (`asResponse()`): the call ends from its body (see `raw-answer.ts`). */
  tookRaw<R>(response: R): R {
    return safely(() => observeRawAnswer(response, this)) ?? response;
  }

  /** A stream chunk, in order. True when the app must not see it (our injected usage chunk). */
  chunk(value: unknown): boolean {
    const rec = this.rec;
    const now = performance.now();
    if (rec.chunks++ === 0) rec.firstChunkTime = now;
    else this.rt.metrics.chunkGap(rec, now - rec.lastChunkTime!);
    rec.lastChunkTime = now;
    const observer = this.op.stream;
    if (!observer) return false;
    try {
      return observer.chunk(value, rec);
    } catch {
      return false;
    }
  }

  /** The stream is over: read to its end, broken off by the caller, aborted, or failed. */
  streamEnded(outcome: Outcome, error?: unknown): void {
    safely(() => {
      if (this.finished) return;
      this.span.setAttribute(ATTR.STREAM_OUTCOME, outcome);
      if (outcome === 'error') return this.failed(error);
      this.captureOutput(undefined);
      this.finish(outcome);
    });
  }

  /** The call failed: before sending, in the HTTP exchange, or while parsing. */
  failed(error: unknown): void {
    safely(() => {
      if (this.finished) return;
      this.rec.errorType = errorType(error);
      this.failure = error;
      const status = (error as { status?: unknown })?.status;
      if (typeof status === 'number') this.rec.httpStatus = status;
      this.span.recordException(sanitizedException(error));
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: this.rec.errorType });
      this.finish('error');
    });
  }

  /** Ends the call without a result: left unread, or still open at shutdown. */
  abandon(outcome: 'unread' | 'incomplete'): void {
    safely(() => {
      if (this.finished) return;
      this.span.setAttribute(ATTR.STREAM_OUTCOME, outcome);
      this.finish(outcome);
    });
  }

  /** A failure as an SDK error class (see `asSdkError`); never throws. */
  asSdkError(error: unknown): unknown {
    return safely(() => asSdkError(this.adapter.client, error)) ?? error;
  }

  addHolder(): void {
    this.holders++;
  }

  /** One of the app's handles on this call was garbage-collected; the last one ends it. */
  releaseHolder(): void {
    if (--this.holders <= 0) this.abandon('unread');
  }

  /** Runs `cb` once, when the call ends, whatever the exit (at once, with how it ended, if it has). */
  onFinish(cb: (end: CallEnd) => void): void {
    if (this.ended) safely(() => cb(this.ended!));
    else this.p.finishers.push(cb);
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** The answer's messages on the span, when content capture is on. */
  private captureOutput(result: unknown): void {
    if (this.rt.config.capture_content && this.op.outputMessages) {
      this.span.setAttribute(ATTR.OUTPUT_MESSAGES, JSON.stringify(this.op.outputMessages(this.rec, result)));
    }
  }

  // ── finish: exactly once ─────────────────────────────────────────────────────────────────

  /** Fills in usage, prices it, settles the budgets, runs the layers' callbacks, records the rest. */
  private finish(outcome: Outcome): void {
    if (this.finished) return;
    this.finished = true;
    const { rt, rec, span } = this;
    const { a } = this.s;
    const voice = this.p.voice;
    rt.open.delete(this);
    // A failed call is billed nothing, unless a stream had already produced output.
    const produced = outcome !== 'error' || (rec.stream && rec.chunks > 0);
    if (produced) safely(() => estimateMissingUsage(rec, this.op));
    const cost = produced ? safely(() => rt.governor?.costOf(rec, this.op)) : undefined;
    if (cost?.suspicious) safely(() => voice.flagSuspicious(cost.suspicious!));
    // A cache hit spent nothing: what it would have cost is counted as saved.
    const spent = a.cached ? undefined : cost;
    safely(() => rt.governor?.settle(a.admission, spent));
    const end: CallEnd = { outcome, error: this.failure, tokens: produced ? (rec.usage.inputTokens ?? 0) + (rec.usage.outputTokens ?? 0) : 0 };
    this.ended = end;
    for (const cb of this.p.finishers) safely(() => cb(end));
    const durationSeconds = (performance.now() - rec.startTime) / 1000;
    if (voice.auditing) safely(() => voice.audit(...endEvent(outcome, rec, a, cost, this.failure, durationSeconds * 1000)));
    span.setAttributes(endAttributes(rec));
    if (spent) safely(() => recordCost(span, rec, a.attribution, spent, rt.governor!.metrics, rt.metrics.labels.models));
    if (a.cached && cost) safely(() => voice.recordSaved(cost));
    span.end();
    rt.metrics.record(rec, durationSeconds);
    rec.outputText.length = 0;
    this.s.answer = undefined;
    letGo(this);
  }
}
