import { context, createContextKey, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { AuditEventFacts, AuditKind } from '../audit';
import type { AuditRecorder } from '../audit/trail';
import type { GovernorConfig } from '../config/schema';
import type { CallCost, Governor } from '../cost/governor';
import { picoToUsd } from '../cost/money';
import { asSdkError, governorError } from '../errors';
import type { Guards } from '../guards';
import type { ClientClasses, Target } from '../guards/fallback';
import type { Body, Operation } from '../operations';
import { newRecord, type CallRecord } from '../operations/record';
import { admit } from '../pipeline/admission-order';
import { isPlainBody } from '../pipeline/admission/attribute';
import { applyAdmission, readmitFor } from '../pipeline/admission/reserve';
import type { Admitting } from '../pipeline/admission/types';
import { errorType } from '../pipeline/error-type';
import type { CallEnd, CallScope } from '../pipeline/send-layer';
import { send as sendDown } from '../pipeline/send-order';
import type { Refusal } from '../pipeline/wire';
import type { ProviderInfo } from '../providers/detect';
import { ATTR } from '../semconv';
import { safely } from '../util/safely';
import { AttemptEvents } from './attempt-events';
import { callFacts, endEvent, fallbackFacts } from './call-audit';
import { estimateMissingUsage, recordCost, tpmTokens } from './call-cost';
import { letGo } from './holders';
import type { GenAiMetrics } from './metrics';
import { observeRawAnswer } from './raw-answer';
import { SdkAttempts, type SendRequest } from './sdk-attempts';
import { endAttributes, sanitizedException, servedBy, spanName, startAttributes } from './span-attributes';

/** What every call shares: set up once by the instrumentation. */
export interface Runtime {
  readonly config: GovernorConfig;
  readonly tracer: Tracer;
  readonly metrics: GenAiMetrics;
  /** Calls that have started and not yet finished (flushed as incomplete on shutdown). */
  readonly open: Set<Call>;
  /** Cost and budgets; absent only where no meter exists yet. */
  readonly governor?: Governor;
  /** Breakers, rate limits, cache, moderation and fallbacks; absent only where no meter exists yet. */
  readonly guards?: Guards;
  /** The audit trail: one OCSF event per call and per decision (only enqueued here). */
  readonly audit?: AuditRecorder;
}

export type { SendRequest } from './sdk-attempts';

/** Where a call keeps itself in its context, for the send step (see `patch.ts`). */
const CALL_KEY = createContextKey('llm-governor.call');

/** The call whose request runs in this context, if any. */
export function callIn(ctx: Context): Call | undefined {
  return ctx.getValue(CALL_KEY) as Call | undefined;
}

/** How a call ended, beyond success or failure. */
export type Outcome = 'completed' | 'broken' | 'aborted' | 'error' | 'unread' | 'incomplete';

/**
 * One logical call, from `client.post()` to its last byte, in three steps:
 *
 *   before  → the admission steps (pipeline/admission-order.ts), inside the SDK's own promise
 *   send    → the send layers (pipeline/send-order.ts), called by the SDK's transport hook
 *   after   → the answer observed (result, stream, raw body), then `finish`, exactly once:
 *             usage (estimated only if the provider gave none), cost, the budgets settled, the
 *             layers' finish callbacks, the audit event, span and metrics
 *
 * Every operation and provider goes through this one class. Every method is safe: a fault in
 * telemetry never reaches the app; a limit we enforce reaches it as one of our `APIError`
 * subclasses, through the SDK's own promise.
 */
export class Call {
  readonly rec: CallRecord;
  readonly span: Span;
  /** The context the SDK's request runs in: our span is active there. */
  readonly ctx: Context;
  private finished = false;
  private holders = 0;
  /** The admission's state: attribution, the body to send, a cached answer, the reservation. */
  private a: Admitting;
  private failure?: unknown;
  /** The body as sent (after our changes), for backups and the cache. */
  private sentBody?: Body;
  /** True when our loop retries and falls back (a JSON body we can send again). */
  private ownsRetries = false;
  private maxRetries = 0;
  private tokenEstimate?: number;
  /** Every try of this call, built as the SDK builds one. */
  private readonly sdk: SdkAttempts;
  private readonly attempts: AttemptEvents;
  /** What the send layers asked to run when the call ends (breaker tickets, rate-limit corrections). */
  private readonly finishers: Array<(end: CallEnd) => void> = [];
  /** The JSON value of the answer's body, read whole by the send step (until the call ends). */
  private answer_?: unknown;

  constructor(
    private readonly rt: Runtime,
    readonly op: Operation,
    readonly provider: ProviderInfo,
    body: Body | undefined,
    private readonly parent: Context,
    private readonly client?: unknown,
    private readonly path = '',
    private readonly classes?: ClientClasses,
  ) {
    this.rec = newRecord(op.name, provider.name, body ?? {});
    this.rec.serverAddress = provider.serverAddress;
    this.rec.serverPort = provider.serverPort;
    this.span = rt.tracer.startSpan(
      spanName(this.rec),
      { kind: SpanKind.CLIENT, attributes: startAttributes(this.rec) },
      parent,
    );
    this.ctx = trace.setSpan(parent, this.span).setValue(CALL_KEY, this);
    this.a = this.admitting({}, false);
    this.sdk = new SdkAttempts(client, path);
    this.attempts = new AttemptEvents(this.span, this.rec);
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
    this.a = this.admitting({ body: opts?.body, headers: opts?.headers }, plain);
    await admit(this.a);
    const body = this.a.body;
    this.sentBody = plain ? body ?? (opts.body as Body) : undefined;
    const out: Record<string, unknown> = body && body !== opts.body ? { ...opts, body } : { ...opts };
    if (plain) {
      // One retry loop: ours. The SDK's own loop gets 0 retries.
      const clientRetries = (this.client as { maxRetries?: unknown })?.maxRetries;
      this.maxRetries = opts.maxRetries ?? this.rt.config.max_retries ?? (typeof clientRetries === 'number' ? clientRetries : 2);
      this.ownsRetries = true;
      out.maxRetries = 0;
    }
    if (opts.timeout === undefined && this.rt.config.timeout_seconds !== undefined) out.timeout = Math.round(this.rt.config.timeout_seconds * 1000);
    return out as O;
  }

  /** What the admission steps may read and decide of this call (see `Admitting`). */
  private admitting(original: Admitting['original'], plain: boolean): Admitting {
    return {
      config: this.rt.config,
      guards: this.rt.guards,
      governor: this.rt.governor,
      op: this.op,
      provider: this.provider,
      client: this.client,
      path: this.path,
      parent: this.parent,
      rec: this.rec,
      original,
      plain,
      attribution: {},
      setAttributes: (attrs) => safely(() => this.span.setAttributes(attrs)),
      renamed: () => safely(() => this.span.updateName(spanName(this.rec))),
      audit: (kind, facts) => this.audit(kind, facts),
      countRejected: (reason) => this.countRejected(reason),
      identity: () => this.identity(),
      // The moderation request is a call of its own (a child span), through the same client.
      moderations: (model, input) => context.with(this.ctx, () => (this.client as { moderations: { create(p: object): Promise<unknown> } }).moderations.create({ model, input })),
      refusal: (code, status, message, details) => governorError(this.client, code, status, message, details),
    };
  }

  // ── send: the pipeline (pipeline/send-order.ts), with this call as its scope ────────────────

  /**
   * Sends the call down the one send path (cache replay → fallback → retry → rate limit →
   * breaker → transport). Returns the answer the SDK should see; a refusal of ours is an HTTP
   * answer the SDK turns into our error. Throws only what the SDK would have seen from fetch (a
   * connection error, a timeout, the app's own abort).
   */
  send(req: SendRequest): Promise<Response> {
    this.sdk.request = req;
    const primary = this.primaryTarget();
    return sendDown({ target: primary, retry: 0 }, this.scope(req, primary));
  }

  private primaryTarget(): Target {
    const model = (this.sentBody?.model as string | undefined) ?? this.rec.requestModel ?? '';
    return { provider: this.provider, model, client: this.client, primary: true };
  }

  /** What the send layers may touch of this call (see `CallScope`). */
  private scope(req: SendRequest, primary: Target): CallScope {
    const call = this;
    return {
      config: this.rt.config,
      guards: this.rt.guards,
      signal: req.init.signal,
      controller: req.controller,
      ownsRetries: this.ownsRetries,
      maxRetries: this.maxRetries,
      stream: this.rec.stream,
      primary,
      classes: this.classes,
      requestModel: this.rec.requestModel,
      cached: this.a.cached,
      cacheKey: this.a.cacheKey,
      tokens: () => (this.tokenEstimate ??= tpmTokens(this.op, this.sentBody ?? this.rec.requestBody)),
      build: (target, retry) => this.sdk.build(target, retry),
      prepareBackup: (target) => this.sdk.prepareBackup(target, () => applyAdmission(this.a, { ...this.sentBody!, model: target.model }, this.a.admission), req.init.signal),
      switchTo: (target, from, reason) => this.switchTo(target, from, reason),
      served: (target) => safely(() => servedBy(this.rec, this.span, target)),
      answerRead: (value) => {
        call.answer_ = value;
      },
      attemptStarted: (target) => this.attempts.started(target),
      attemptFinished: (status, error) => this.attempts.finished(status, error),
      audit: (kind, facts) => this.audit(kind, facts),
      setAttribute: (key, value) => safely(() => this.span.setAttribute(key, value)),
      countRejected: (reason) => this.countRejected(reason),
      onFinish: (cb) => {
        this.finishers.push(cb);
      },
    };
  }

  /** Moving on to a backup: counted, on the span, and re-admitted on the budgets that cover it. */
  private async switchTo(target: Target, from: Target, reason: string): Promise<Refusal | undefined> {
    safely(() => this.attempts.fellBack(from, target, reason, this.rt.guards?.metrics));
    this.audit('fallback', fallbackFacts(from, target, reason));
    const governor = this.rt.governor;
    if (!governor?.budgetsActive || !this.sentBody) return undefined;
    return readmitFor(this.a, governor, this.sentBody, target);
  }

  /** The SDK's own options object of this call, from its first buildRequest on this call's client. */
  sdkRequestOptions(client: unknown, options: Record<string, unknown>): void {
    this.sdk.capture(client, options);
  }

  /** One audit event about this call, with the call's own facts; only enqueued (see `audit/trail.ts`). */
  private audit(kind: AuditKind, extra: AuditEventFacts = {}): void {
    const trail = this.rt.audit;
    if (trail) safely(() => trail.record(kind, callFacts(this.rec, this.a, this.span, extra), this.span.spanContext()));
  }

  private countRejected(reason: string): void {
    safely(() => this.rt.governor?.metrics.rejectedCall(reason));
  }

  private identity(): Record<string, string> {
    const attrs: Record<string, string> = { [ATTR.PROVIDER_NAME]: this.provider.name, [ATTR.OPERATION_NAME]: this.op.name };
    if (this.rec.requestModel) attrs[ATTR.REQUEST_MODEL] = this.rt.metrics.labels.models.label(this.rec.requestModel)!;
    return attrs;
  }

  // ── after ────────────────────────────────────────────────────────────────────────────────

  /** A parsed, non-stream result. Returns it unchanged. */
  succeeded<T>(result: T): T {
    safely(() => {
      if (this.finished) return;
      this.op.readResult(result, this.rec);
      if (this.rt.config.capture_content && this.op.outputMessages) {
        this.span.setAttribute(ATTR.OUTPUT_MESSAGES, JSON.stringify(this.op.outputMessages(this.rec, result)));
      }
      this.finish('completed');
    });
    return result;
  }

  /** The JSON value of the answer's body, when the send step read it whole. */
  get answerValue(): unknown {
    return this.answer_;
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
      if (this.rt.config.capture_content && this.op.outputMessages) {
        this.span.setAttribute(ATTR.OUTPUT_MESSAGES, JSON.stringify(this.op.outputMessages(this.rec, undefined)));
      }
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
    return safely(() => asSdkError(this.client, error)) ?? error;
  }

  addHolder(): void {
    this.holders++;
  }

  /** One of the app's handles on this call was garbage-collected; the last one ends it. */
  releaseHolder(): void {
    if (--this.holders <= 0) this.abandon('unread');
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** Exactly once per call: fill in usage, price it, settle the budgets, record span and metrics. */
  private finish(outcome: Outcome): void {
    if (this.finished) return;
    this.finished = true;
    this.rt.open.delete(this);
    // A failed call is billed nothing, unless a stream had already produced output.
    const produced = outcome !== 'error' || (this.rec.stream && this.rec.chunks > 0);
    if (produced) safely(() => estimateMissingUsage(this.rec, this.op));
    const cost = produced ? safely(() => this.rt.governor?.costOf(this.rec, this.op)) : undefined;
    if (cost?.suspicious) safely(() => this.flagSuspicious(cost.suspicious!));
    // A cache hit spent nothing: what it would have cost is counted as saved.
    const spent = this.a.cached ? undefined : cost;
    safely(() => this.rt.governor?.settle(this.a.admission, spent));
    const end: CallEnd = { outcome, error: this.failure, tokens: produced ? (this.rec.usage.inputTokens ?? 0) + (this.rec.usage.outputTokens ?? 0) : 0 };
    for (const cb of this.finishers) safely(() => cb(end));
    const durationSeconds = (performance.now() - this.rec.startTime) / 1000;
    safely(() => {
      const [kind, facts] = endEvent(outcome, this.rec, this.a, cost, this.failure, durationSeconds * 1000);
      this.audit(kind, facts);
    });
    this.span.setAttributes(endAttributes(this.rec));
    if (spent) safely(() => recordCost(this.span, this.rec, this.a.attribution, spent, this.rt.governor!.metrics, this.rt.metrics.labels.models));
    if (this.a.cached && cost) safely(() => this.recordSaved(cost));
    this.span.end();
    this.rt.metrics.record(this.rec, durationSeconds);
    this.rec.outputText.length = 0;
    this.answer_ = undefined;
    letGo(this);
  }

  /** Usage that cannot be true: flagged everywhere, its tokens kept out of the token metrics. */
  private flagSuspicious(reason: string): void {
    this.rec.usageSuspicious = reason;
    this.span.setAttribute(ATTR.USAGE_SUSPICIOUS, reason);
    this.rt.governor?.metrics.suspiciousUsage({ ...this.identity(), [ATTR.REJECT_REASON]: reason });
    this.audit('usage_suspicious', { detail: reason, estimated: true });
  }

  private recordSaved(cost: CallCost): void {
    const usd = picoToUsd(cost.pico);
    this.span.setAttributes({ [ATTR.COST_USD]: 0, [ATTR.CACHE_SAVED_USD]: usd });
    this.rt.guards?.cache.countSaved(usd, this.identity());
  }

}
