import { context, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { GovernorConfig } from '../config/schema';
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
}

/** How a call ended, beyond success or failure. */
export type Outcome = 'completed' | 'broken' | 'aborted' | 'error' | 'unread' | 'incomplete';

/**
 * One logical call, from `client.post()` to its last byte. The whole lifecycle is here:
 *
 *   before  → attribute the call, prepare the request (ask streams for usage)
 *   send    → (the SDK sends, retrying as it is configured; each attempt is a span event)
 *   after   → read usage from the result or the stream, estimate only if none, record once
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

  constructor(
    private readonly rt: Runtime,
    readonly op: Operation,
    readonly provider: ProviderInfo,
    body: Body | undefined,
    parent: Context,
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
    const changed = safely(() => this.prepare(opts?.body as Body));
    return changed ? ({ ...opts, body: changed } as O) : opts;
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
    const attrs: Record<string, any> = {};
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

  /** Exactly once per call: fill in usage, then record the span and the metrics. */
  private finish(outcome: Outcome): void {
    if (this.finished) return;
    this.finished = true;
    this.rt.open.delete(this);
    if (outcome !== 'error') this.estimateMissingUsage();
    const durationSeconds = (performance.now() - this.rec.startTime) / 1000;
    this.span.setAttributes(endAttributes(this.rec));
    this.span.end();
    this.rt.metrics.record(this.rec, durationSeconds);
    this.rec.outputText.length = 0;
  }

  /** Token counts come from the provider; only when it gave none do we count them ourselves. */
  private estimateMissingUsage(): void {
    const rec = this.rec;
    const u = rec.usage;
    const tokenBilled = u.audioSeconds === undefined && rec.operation !== 'moderation';
    if (!tokenBilled) return;
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

/** The JSON fields of a request body (multipart bodies: their plain, non-file fields). */
function plainFields(body: object): Body {
  if (typeof (body as FormData).entries === 'function' && typeof (body as FormData).get === 'function') {
    const out: Body = {};
    for (const [k, v] of (body as FormData).entries()) if (typeof v === 'string') out[k] = v;
    return out;
  }
  // openai v4 wraps multipart bodies in a MultipartBody holding the FormData.
  const inner = (body as { body?: unknown }).body;
  if (inner && typeof inner === 'object' && typeof (inner as FormData).entries === 'function') return plainFields(inner);
  return body as Body;
}

export const activeContext = () => context.active();
