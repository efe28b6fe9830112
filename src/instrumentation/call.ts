import { SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { resolveAttribution, type Attribution } from '../attribution';
import type { GovernorConfig } from '../config/schema';
import type { Admission } from '../cost/engine';
import type { CallCost, Governor } from '../cost/governor';
import { picoToUsd } from '../cost/money';
import { isBreakerFailure, type Breakers, type BreakerTicket } from '../guards/breaker';
import { countTokens, REPLY_PRIMING_TOKENS, TOKENS_PER_MESSAGE } from '../cost/tokens';
import type { ProviderInfo } from '../providers/detect';
import { ATTR, EVENT, EVENT_ATTR, PROVIDER } from '../semconv';
import type { GenAiMetrics } from './metrics';
import type { Body, Operation } from './operations';
import { newRecord, type CallRecord } from './record';
import { endAttributes, startAttributes } from './span-attributes';
import { safely } from './safely';

/** What every call shares: set up once by the instrumentation. */
export interface Runtime {
  readonly config: GovernorConfig;
  readonly tracer: Tracer;
  readonly metrics: GenAiMetrics;
  /** Calls that have started and not yet finished (flushed as incomplete on shutdown). */
  readonly open: Set<Call>;
  /** Cost and budgets; absent only where no meter exists yet. */
  readonly governor?: Governor;
  /** Circuit breakers, one per provider, model and server. */
  readonly breakers?: Breakers;
}

/** How a call ended, beyond success or failure. */
export type Outcome = 'completed' | 'broken' | 'aborted' | 'error' | 'unread' | 'incomplete';

/**
 * One logical call, from `client.post()` to its last byte. The whole lifecycle is here:
 *
 *   before  → attribute the call, prepare the request (ask streams for usage), estimate its
 *             worst-case cost and reserve it on every matching budget (or cap, downgrade, block)
 *   send    → (the SDK sends, retrying as it is configured; each attempt is a span event)
 *   after   → read usage from the result or the stream (estimate only if none), price it,
 *             commit it to the budgets and release the rest, record span and metrics — once
 *
 * Every operation and provider goes through this one class; operations only say how to read
 * their request and result (see `operations/`). Every method is safe: a fault in telemetry is
 * swallowed and never reaches the app.
 */
export class Call {
  readonly rec: CallRecord;
  readonly span: Span;
  /** The context the SDK's request runs in: our span is active there. */
  readonly ctx: Context;
  private finished = false;
  private attempts = 0;
  private lastAttemptEnd?: number;
  private holders = 0;
  private attribution: Attribution = {};
  private admission?: Admission;
  private ticket?: BreakerTicket;
  private failure?: unknown;

  constructor(
    private readonly rt: Runtime,
    readonly op: Operation,
    readonly provider: ProviderInfo,
    body: Body | undefined,
    private readonly parent: Context,
    private readonly client?: unknown,
  ) {
    this.rec = newRecord(op.name, provider.name, body ?? {});
    this.rec.serverAddress = provider.serverAddress;
    this.rec.serverPort = provider.serverPort;
    this.span = rt.tracer.startSpan(
      spanName(this.rec),
      { kind: SpanKind.CLIENT, attributes: startAttributes(this.rec) },
      parent,
    );
    this.ctx = trace.setSpan(parent, this.span);
    rt.open.add(this);
  }

  // ── before ───────────────────────────────────────────────────────────────────────────────

  /**
   * Resolves the request options the SDK will send. Runs inside the SDK's own promise, so a
   * rejection here (a limit we enforce, from later stages) surfaces through the SDK's APIPromise.
   * Never mutates the caller's params: a changed body is a copy.
   */
  async before<O extends { body?: unknown }>(optsInput: O | Promise<O>): Promise<O> {
    const opts = await optsInput;
    safely(() => this.attribute(opts?.body));
    const plain = isPlainBody(opts?.body);
    let body = plain ? safely(() => this.prepare(opts.body as Body)) ?? (opts.body as Body) : undefined;
    const governor = this.rt.governor;
    if (governor?.budgetsActive) {
      // A limit we enforce rejects here, inside the SDK's own promise: nothing is sent.
      this.admission = await this.admit(governor, body ?? this.rec.requestBody);
      if (plain && body) body = this.applyAdmission(body, this.admission);
    }
    // The breaker last: a call our budgets refuse never counts for or against the provider.
    const breakers = this.rt.breakers;
    if (breakers) {
      const model = (body?.model as string | undefined) ?? this.rec.requestModel ?? '';
      const server = this.provider.serverAddress;
      this.ticket = breakers.admit({ id: `${this.provider.name}|${model}|${server ?? ''}|${this.provider.serverPort ?? ''}`, provider: this.provider.name, model, server }, this.client);
    }
    return body && body !== opts.body ? ({ ...opts, body } as O) : opts;
  }

  private async admit(governor: Governor, body: Body): Promise<Admission | undefined> {
    try {
      return await governor.admit({ op: this.op, provider: this.provider.name, model: this.rec.requestModel, body, attribution: this.attribution }, this.client);
    } catch (err) {
      if ((err as { llmGovernorCode?: string })?.llmGovernorCode) throw err;
      safely(() => {
        throw err;
      });
      return undefined; // a fault of ours never blocks the app's call
    }
  }

  /** The admission's changes, on a copy of the body: a cheaper model, or fewer output tokens. */
  private applyAdmission(body: Body, admission: Admission | undefined): Body {
    if (!admission) return body;
    let out = body;
    if (admission.model) {
      out = { ...out, model: admission.model };
      this.span.setAttribute(ATTR.SERVED_MODEL, admission.model);
    }
    if (admission.maxOutputTokens !== undefined && this.op.maxOutput) out = this.op.maxOutput.write(out, admission.maxOutputTokens);
    if (admission.actions.length) this.span.setAttribute(ATTR.BUDGET_ACTIONS, admission.actions);
    if (admission.reservation) this.span.setAttribute(ATTR.BUDGET_RESERVED_USD, picoToUsd(admission.reservation.amount));
    if (admission.storeUnavailable) this.span.setAttribute(ATTR.BUDGET_STORE_UNAVAILABLE, true);
    return out;
  }

  private attribute(body: unknown): void {
    if (!body || typeof body !== 'object' || body instanceof Uint8Array) return;
    const b = plainFields(body);
    if (this.rec.requestModel === undefined && typeof b.model === 'string') {
      this.rec.requestModel = b.model;
      this.span.updateName(spanName(this.rec));
    }
    this.rec.requestBody = b;
    this.rec.stream = b.stream === true;
    this.attribution = resolveAttribution(this.parent, b, this.rt.config.user_hash_salt);
    const attrs: Record<string, any> = {};
    if (this.attribution.tenant) attrs[ATTR.TENANT] = this.attribution.tenant;
    if (this.attribution.user) attrs[ATTR.USER] = this.attribution.user;
    if (this.attribution.feature) attrs[ATTR.FEATURE] = this.attribution.feature;
    if (this.rec.requestModel) attrs[ATTR.REQUEST_MODEL] = this.rec.requestModel;
    this.op.requestAttributes(b, attrs);
    if (this.provider.name !== PROVIDER.OPENAI) for (const k of Object.keys(attrs)) if (k.startsWith('openai.')) delete attrs[k];
    if (this.rt.config.capture_content && this.op.inputMessages) {
      attrs[ATTR.INPUT_MESSAGES] = JSON.stringify(this.op.inputMessages(b));
    }
    this.span.setAttributes(attrs);
  }

  /** A copy of the body to send instead of the caller's, or undefined to send it as it is. */
  private prepare(body: Body | undefined): Body | undefined {
    if (!body || !this.rt.config.request_stream_usage || !this.op.withStreamUsage) return undefined;
    const withUsage = this.op.withStreamUsage(body);
    if (withUsage) this.rec.usageInjected = true;
    return withUsage;
  }

  // ── send: called by the transport hook for each HTTP attempt ─────────────────────────────

  attemptStarted(): void {
    safely(() => {
      this.attempts++;
      if (this.attempts > 1) {
        const wait = this.lastAttemptEnd === undefined ? undefined : performance.now() - this.lastAttemptEnd;
        this.span.addEvent(EVENT.RETRY_ATTEMPT, {
          [EVENT_ATTR.ATTEMPT]: this.attempts,
          ...(wait === undefined ? {} : { [EVENT_ATTR.ATTEMPT_WAIT_MS]: Math.round(wait) }),
        });
      }
    });
  }

  attemptFinished(status: number | undefined, error?: unknown): void {
    safely(() => {
      this.lastAttemptEnd = performance.now();
      if (status !== undefined) this.rec.httpStatus = status;
      // Only failed attempts that the SDK may retry are worth an event; success ends the call.
      if (error !== undefined || (status !== undefined && status >= 400)) {
        this.span.addEvent(EVENT.RETRY_ATTEMPT + '.failed', {
          [EVENT_ATTR.ATTEMPT]: this.attempts,
          ...(status === undefined ? {} : { [EVENT_ATTR.ATTEMPT_STATUS]: status }),
          ...(error === undefined ? {} : { [EVENT_ATTR.ATTEMPT_ERROR]: errorType(error) }),
        });
      }
    });
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

  /** A stream chunk, in order. True when the app must not see it (our injected usage chunk). */
  chunk(value: unknown): boolean {
    const rec = this.rec;
    if (rec.chunks++ === 0) rec.firstChunkTime = performance.now();
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
    const billed = outcome !== 'error' || (this.rec.stream && this.rec.chunks > 0);
    if (billed) safely(() => this.estimateMissingUsage());
    const cost = billed ? safely(() => this.rt.governor?.costOf(this.rec)) : undefined;
    safely(() => this.rt.governor?.settle(this.admission, cost));
    safely(() => this.ticket?.settle(outcome === 'error' && isBreakerFailure(this.failure)));
    const durationSeconds = (performance.now() - this.rec.startTime) / 1000;
    this.span.setAttributes(endAttributes(this.rec));
    if (cost) safely(() => this.recordCost(cost));
    this.span.end();
    this.rt.metrics.record(this.rec, durationSeconds);
    this.rec.outputText.length = 0;
  }

  private recordCost(cost: CallCost): void {
    const usd = picoToUsd(cost.pico);
    this.span.setAttribute(ATTR.COST_USD, usd);
    if (cost.estimated) this.span.setAttribute(ATTR.COST_ESTIMATED, true);
    if (cost.priceModel) this.span.setAttribute(ATTR.PRICE_MODEL, cost.priceModel);
    const m = this.rt.governor!.metrics;
    const attrs: Record<string, string> = { [ATTR.PROVIDER_NAME]: this.rec.provider, [ATTR.OPERATION_NAME]: this.rec.operation };
    if (this.rec.requestModel) attrs[ATTR.REQUEST_MODEL] = this.rec.requestModel;
    if (this.rec.responseModel) attrs[ATTR.RESPONSE_MODEL] = this.rec.responseModel;
    const tenant = m.tenants.label(this.attribution.tenant);
    const user = m.users.label(this.attribution.user);
    const feature = m.features.label(this.attribution.feature);
    if (tenant) attrs[ATTR.TENANT] = tenant;
    if (user) attrs[ATTR.USER] = user;
    if (feature) attrs[ATTR.FEATURE] = feature;
    m.recordCost(usd, attrs);
  }

  /** Token counts come from the provider; only when it gave none do we count them ourselves. */
  private estimateMissingUsage(): void {
    const rec = this.rec;
    const u = rec.usage;
    // Only token-billed operations are estimated: images, audio and moderation bill otherwise.
    if (!TOKEN_BILLED.has(rec.operation)) return;
    if (u.inputTokens === undefined) {
      const messages = Array.isArray(rec.requestBody.messages) ? rec.requestBody.messages.length : 0;
      const framing = messages ? messages * TOKENS_PER_MESSAGE + REPLY_PRIMING_TOKENS : 0;
      u.inputTokens = countTokens(this.op.inputText(rec.requestBody)) + framing;
      rec.usageEstimated = true;
    }
    if (u.outputTokens === undefined && (rec.stream || rec.outputText.length)) {
      u.outputTokens = countTokens(rec.outputText.join(''));
      rec.usageEstimated = true;
    }
  }
}

const TOKEN_BILLED = new Set<string>(['chat', 'text_completion', 'embeddings']);

export function spanName(rec: Pick<CallRecord, 'operation' | 'requestModel'>): string {
  return rec.requestModel ? `${rec.operation} ${rec.requestModel}` : rec.operation;
}

/** A low-cardinality error type: our errors' code, else the SDK error's class name. */
export function errorType(error: unknown): string {
  if (error && typeof error === 'object') {
    const code = (error as { llmGovernorCode?: unknown }).llmGovernorCode;
    if (typeof code === 'string') return code;
    const name = (error as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string' && name && name !== 'Object') return name;
  }
  return '_OTHER';
}

/**
 * The exception recorded on the span: class and message only. SDK error messages hold the
 * response body, never the request's headers, but we still drop anything that looks like a key.
 */
function sanitizedException(error: unknown): { name: string; message: string } {
  const name = errorType(error);
  const raw = error instanceof Error ? error.message : String(error);
  return { name, message: redactSecrets(raw).slice(0, 1000) };
}

const SECRET_PATTERNS = [/sk-[A-Za-z0-9_-]{8,}/g, /xai-[A-Za-z0-9_-]{8,}/g, /Bearer\s+[A-Za-z0-9._~+/=-]+/gi];

export function redactSecrets(text: string): string {
  let out = text;
  for (const re of SECRET_PATTERNS) out = out.replace(re, '[REDACTED]');
  return out;
}

/** A JSON body we may copy and change (not a multipart or binary one). */
function isPlainBody(body: unknown): boolean {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return false;
  const proto = Object.getPrototypeOf(body);
  return proto === Object.prototype || proto === null;
}

/** The JSON fields of a request body (multipart bodies: their plain, non-file fields). */
function plainFields(body: object): Body {
  if (typeof (body as FormData).entries === 'function' && typeof (body as FormData).get === 'function') {
    const out: Body = {};
    let fileBytes = 0;
    for (const [k, v] of (body as FormData).entries()) {
      if (typeof v === 'string') out[k] = v;
      else if (v && typeof (v as Blob).size === 'number') fileBytes += (v as Blob).size;
    }
    // Uploaded bytes, for a worst-case estimate of audio seconds (the file itself is never kept).
    if (fileBytes) out._file_bytes = fileBytes;
    return out;
  }
  // openai v4 wraps multipart bodies in a MultipartBody holding the FormData.
  const inner = (body as { body?: unknown }).body;
  if (inner && typeof inner === 'object' && typeof (inner as FormData).entries === 'function') return plainFields(inner);
  return body as Body;
}

