import { context, createContextKey, diag, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { hashedUser, resolveAttribution, type Attribution } from '../attribution';
import type { AuditEventFacts, AuditKind } from '../audit';
import type { AuditRecorder } from '../audit/trail';
import type { GovernorConfig } from '../config/schema';
import type { Admission } from '../cost/engine';
import type { CallCost, Governor } from '../cost/governor';
import { picoToUsd } from '../cost/money';
import { asSdkError, governorError } from '../errors';
import type { CachedResponse } from '../guards/cache';
import { cacheKey } from '../guards/cache';
import type { ClientClasses, Target } from '../guards/fallback';
import type { Guards } from '../guards';
import { countTokensOnce, estimateInputTokens } from '../cost/tokens';
import type { ProviderInfo } from '../providers/detect';
import { ATTR, EVENT, EVENT_ATTR, PROVIDER, REJECT_REASON } from '../semconv';
import type { GenAiMetrics } from './metrics';
import type { Body, Operation } from '../operations';
import { redact } from '../redaction';
import { letGo } from './holders';
import { observeRawAnswer } from './raw-answer';
import { newRecord, type CallRecord } from '../operations/record';
import { backupOptions, buildAttempt, sendAttempt, type BuiltRequest } from './sdk-request';
import { endAttributes, startAttributes } from './span-attributes';
import { safely } from './safely';
import { errorType } from '../pipeline/error-type';
import { TargetUnusable, type BuiltAttempt, type CallEnd, type CallScope } from '../pipeline/send-layer';
import { send as sendDown } from '../pipeline/send-order';
import { refusalOf, type Refusal } from '../pipeline/wire';

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

/** What the transport hook hands to the send step: the SDK's request for this attempt. */
export interface SendRequest {
  url: string;
  init: RequestInit & { signal?: AbortSignal | null; body?: unknown };
  /** The per-attempt timeout the SDK computed. */
  ms: number;
  controller: AbortController;
  /** The SDK's own fetchWithTimeout, unwrapped, bound to the client given. */
  fetch: (client: unknown, url: string, init: RequestInit, ms: number, controller: AbortController) => Promise<Response>;
}

/** Where a call keeps itself in its context, for the send step (see `patch.ts`). */
const CALL_KEY = createContextKey('llm-governor.call');

/** The call whose request runs in this context, if any. */
export function callIn(ctx: Context): Call | undefined {
  return ctx.getValue(CALL_KEY) as Call | undefined;
}

/** How a call ended, beyond success or failure. */
export type Outcome = 'completed' | 'broken' | 'aborted' | 'error' | 'unread' | 'incomplete';

/**
 * One logical call, from `client.post()` to its last byte. The whole lifecycle is here:
 *
 *   before  → attribute the call; prepare the request (ask streams for usage); moderate the
 *             user's content; answer from the cache, or estimate the worst-case cost and reserve
 *             it on every matching budget (or cap, downgrade, block)
 *   send    → for each target (the app's provider, then its configured backups): wait for the
 *             rate limit, pass the breaker, send; retry what is retryable with backoff, then fall
 *             back; each attempt is a span event. Exactly one retry loop: ours (the SDK's is set
 *             to 0) for JSON requests, the SDK's for uploads, which we cannot re-send
 *   after   → read usage from the result or the stream (estimate only if none), price what
 *             served, commit it to the budgets and release the rest, settle the breaker, record
 *             span and metrics — once
 *
 * Every operation and provider goes through this one class; operations only say how to read
 * their request and result (see `operations/`), guards only answer questions (see `guards/`).
 * Every method is safe: a fault in telemetry is swallowed and never reaches the app; a limit we
 * enforce reaches it as one of our `APIError` subclasses, through the SDK's own promise.
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
  private failure?: unknown;
  /** The body as sent (after our changes), for backups and the cache. */
  private sentBody?: Body;
  /** True when our loop retries and falls back (a JSON body we can send again). */
  private ownsRetries = false;
  private maxRetries = 0;
  private cacheKey?: string;
  private cached?: CachedResponse;
  private tokenEstimate?: number;
  /** The SDK's request for this call, as its transport hook handed it over. */
  private sdkRequest?: SendRequest;
  private readonly backupOptions = new Map<Target, Record<string, unknown>>();
  /** What the send layers asked to run when the call ends (breaker tickets, rate-limit corrections). */
  private readonly finishers: Array<(end: CallEnd) => void> = [];
  /** The SDK's own options object of this call (its first buildRequest's), for rebuilding retries. */
  private sdkOptions?: Record<string, unknown>;
  /** The JSON value of the answer's body, read whole by the send step (until the call ends). */
  private answer_?: unknown;
  private readonly auditedActions = new Set<string>();

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
    rt.open.add(this);
  }

  // ── before ───────────────────────────────────────────────────────────────────────────────

  /**
   * Resolves the request options the SDK will send. Runs inside the SDK's own promise, so a
   * rejection here (a limit we enforce) surfaces through the SDK's APIPromise and nothing is sent.
   * Never mutates the caller's params: a changed body is a copy.
   */
  async before<O extends { body?: unknown; maxRetries?: number; timeout?: number; headers?: unknown }>(optsInput: O | Promise<O>): Promise<O> {
    const opts = await optsInput;
    safely(() => this.attribute(opts?.body));
    const plain = isPlainBody(opts?.body);
    let body = plain ? safely(() => this.prepare(opts.body as Body)) ?? (opts.body as Body) : undefined;
    const guards = this.rt.guards;
    if (plain && guards?.moderation) await this.moderate(opts.body as Body);
    if (plain && guards && this.cacheWanted(guards.cacheByDefault, opts.headers)) await this.lookUpCache(opts.body as Body);
    const governor = this.rt.governor;
    if (!this.cached && governor?.budgetsActive) {
      this.admission = await this.admit(governor, body ?? this.rec.requestBody, this.provider.name, this.rec.requestModel);
      if (plain && body) body = this.applyAdmission(body, this.admission);
    }
    this.sentBody = body;
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

  private async admit(governor: Governor, body: Body, provider: string, model: string | undefined): Promise<Admission | undefined> {
    try {
      return await governor.admit({ op: this.op, provider: provider as ProviderInfo['name'], model, body, attribution: this.attribution }, this.client);
    } catch (err) {
      const code = (err as { llmGovernorCode?: string })?.llmGovernorCode;
      if (code) {
        this.auditBudgetBlock(err, code, provider, model);
        throw err;
      }
      safely(() => {
        throw err;
      });
      return undefined; // a fault of ours never blocks the app's call
    }
  }

  private auditBudgetBlock(err: unknown, code: string, provider: string, model: string | undefined): void {
    const d = (err as { details?: Record<string, unknown> })?.details ?? {};
    const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
    this.audit('budget_block', {
      provider,
      model,
      statusCode: code,
      detail: code,
      ...(typeof d.budget === 'string' ? { budget: { name: d.budget, spentUsd: num(d.spentUsd), limitUsd: num(d.limitUsd), window: typeof d.resetsAt === 'string' ? d.resetsAt : undefined } } : {}),
      ...(code === 'budget_unavailable' ? { message: `budget store unavailable; a call to ${provider} ${model ?? ''} was refused (fail closed)`.replace(/\s+\)/, ')').trim() } : {}),
    });
  }

  /** The admission's changes, on a copy of the body: a cheaper model, or fewer output tokens. */
  private applyAdmission(body: Body, admission: Admission | undefined): Body {
    if (!admission) return body;
    this.auditAdmission(admission);
    let out = body;
    if (admission.model) {
      out = { ...out, model: admission.model };
      this.span.setAttribute(ATTR.SERVED_MODEL, admission.model);
    }
    if (admission.maxOutputTokens !== undefined && this.op.maxOutput) out = this.op.maxOutput.write(out, admission.maxOutputTokens);
    if (admission.actions.length) this.span.setAttribute(ATTR.BUDGET_ACTIONS, admission.actions);
    if (admission.reservation && !admission.storeUnavailable) this.span.setAttribute(ATTR.BUDGET_RESERVED_USD, picoToUsd(admission.reservation.amount));
    if (admission.storeUnavailable) this.span.setAttribute(ATTR.BUDGET_STORE_UNAVAILABLE, true);
    return out;
  }

  /** Budget actions that changed the call: a downgrade, or capped output tokens. Once per action. */
  private auditAdmission(admission: Admission): void {
    for (const action of admission.actions) {
      if (this.auditedActions.has(action)) continue;
      this.auditedActions.add(action);
      const at = action.lastIndexOf(':');
      const name = action.slice(0, at);
      const kind = action.slice(at + 1);
      if (kind === 'downgrade' && admission.model) this.audit('downgrade_applied', { budget: { name }, model: admission.model, requestedModel: this.rec.requestModel });
      else if (kind === 'cap_tokens') this.audit('token_cap_applied', { budget: { name }, maxOutputTokens: admission.maxOutputTokens });
    }
  }

  /** The moderation guard: flagged user content is refused here, and nothing is sent. */
  private async moderate(body: Body): Promise<void> {
    const guard = this.rt.guards!.moderation!;
    const client = this.client as { moderations?: { create(p: object): Promise<any> } };
    const verdict = await guard.check(
      { provider: this.provider.name, model: this.rec.requestModel, operation: this.op.name, path: this.path },
      body,
      // The moderation request is a call of its own (a child span), through the same client.
      (model, input) => context.with(this.ctx, () => client.moderations!.create({ model, input })),
    );
    if (!verdict) return;
    this.span.setAttribute(ATTR.MODERATION_FLAGGED, verdict.categories);
    this.countRejected(REJECT_REASON.CONTENT);
    this.audit('moderation_block', { statusCode: 'content_blocked', detail: `${verdict.source}: ${verdict.categories.join(', ')}` });
    throw governorError(this.client, 'content_blocked', 400, `llm-governor: ${verdict.reason}; nothing was sent`, { source: verdict.source, categories: verdict.categories });
  }

  /** Per call, the header `x-llm-governor-cache: on|off` overrides the config. */
  private cacheWanted(byDefault: boolean, headers: unknown): boolean {
    const v = headerOf(headers, CACHE_HEADER)?.toLowerCase();
    if (v === 'off' || v === 'false' || v === '0') return false;
    if (v === 'on' || v === 'true' || v === '1') return true;
    return byDefault;
  }

  private async lookUpCache(body: Body): Promise<void> {
    const cache = this.rt.guards!.cache!;
    if (this.rec.stream) return; // non-streamed answers only
    const key = safely(() => cacheKey({ provider: this.provider.name, server: this.provider.serverAddress, path: this.path, body }));
    if (!key) return;
    this.cacheKey = key;
    const hit = await cache.get(key);
    const attrs = this.identity();
    cache.countLookup(hit ? 'hit' : 'miss', attrs);
    if (!hit) return;
    this.cached = hit;
    this.rec.cacheHit = true;
    this.span.setAttribute(ATTR.CACHE_HIT, true);
    this.audit('cache_hit', { statusCode: hit.status });
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
    if (this.op.stream) attrs[ATTR.REQUEST_STREAM] = this.rec.stream;
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

  // ── send: the pipeline (pipeline/send-order.ts), with this call as its scope ────────────────

  /**
   * Sends the call down the one send path (cache replay → fallback → retry → rate limit →
   * breaker → transport). Returns the answer the SDK should see; a refusal of ours is an HTTP
   * answer the SDK turns into our error. Throws only what the SDK would have seen from fetch (a
   * connection error, a timeout, the app's own abort).
   */
  send(req: SendRequest): Promise<Response> {
    this.sdkRequest = req;
    return sendDown({ target: this.primaryTarget(), retry: 0 }, this.scope(req));
  }

  private primaryTarget(): Target {
    const model = (this.sentBody?.model as string | undefined) ?? this.rec.requestModel ?? '';
    return { provider: this.provider, model, client: this.client, primary: true };
  }

  /** What the send layers may touch of this call (see `CallScope`). */
  private scope(req: SendRequest): CallScope {
    const call = this;
    return {
      config: this.rt.config,
      guards: this.rt.guards,
      signal: req.init.signal,
      controller: req.controller,
      ownsRetries: this.ownsRetries,
      maxRetries: this.maxRetries,
      stream: this.rec.stream,
      primary: this.primaryTarget(),
      classes: this.classes,
      requestModel: this.rec.requestModel,
      cached: this.cached,
      cacheKey: this.cacheKey,
      tokens: () => this.tokens(),
      build: (target, retry) => this.build(target, retry),
      prepareBackup: (target) => this.prepareBackup(target, req.init.signal),
      switchTo: (target, from, reason) => this.switchTo(target, from, reason),
      served: (target) => this.accept(target),
      answerRead: (value) => {
        call.answer_ = value;
      },
      attemptStarted: (target) => this.attemptStarted(target),
      attemptFinished: (status, error) => this.attemptFinished(status, error),
      audit: (kind, facts) => this.audit(kind, facts),
      setAttribute: (key, value) => safely(() => this.span.setAttribute(key, value)),
      countRejected: (reason) => this.countRejected(reason),
      onFinish: (cb) => {
        this.finishers.push(cb);
      },
    };
  }

  /**
   * Try `retry` on `target`, built as the SDK builds one: the SDK's own first request as it is;
   * every other (new credentials, the retry count) by the SDK's own steps from its options.
   */
  private async build(target: Target, retry: number): Promise<BuiltAttempt> {
    const req = this.sdkRequest!;
    const options = target.primary ? this.sdkOptions : this.backupOptions.get(target);
    if (target.primary && (retry === 0 || !options)) {
      return { url: req.url, headers: req.init.headers, ms: req.ms, send: (controller) => req.fetch(target.client, req.url, req.init, req.ms, controller) };
    }
    let built: BuiltRequest;
    try {
      built = await buildAttempt(target.client, options!, retry);
    } catch (err) {
      if (target.primary) throw err; // as the SDK's own loop would: its credentials failed
      diag.warn(`llm-governor: fallback to ${target.provider.name} ${target.model} skipped: its request could not be built (${(err as Error)?.message})`);
      throw new TargetUnusable(String(err));
    }
    return { url: built.url, headers: built.init.headers, ms: req.ms, send: (controller) => sendAttempt(target.client, built, req.ms, controller, req.fetch) };
  }

  /** Moving on to a backup: counted, on the span, and re-admitted on the budgets that cover it. */
  private async switchTo(target: Target, from: Target, reason: string): Promise<Refusal | undefined> {
    const fromName = `${from.provider.name}/${from.model}`;
    const toName = `${target.provider.name}/${target.model}`;
    safely(() => {
      this.rt.guards?.metrics.fallback(fromName, toName, reason);
      this.span.addEvent(EVENT.FALLBACK, { [ATTR.FROM]: fromName, [ATTR.TO]: toName, [ATTR.REJECT_REASON]: reason });
    });
    this.audit('fallback', {
      provider: target.provider.name,
      model: target.model,
      providerHost: target.provider.serverAddress,
      providerPort: target.provider.serverPort,
      fallbackFrom: { provider: from.provider.name, model: from.model },
      detail: reason,
    });
    const governor = this.rt.governor;
    if (!governor?.budgetsActive || !this.sentBody) return undefined;
    // Budgets charge what serves: release the primary's reservation, reserve for the backup.
    const previous = this.admission;
    this.admission = undefined;
    safely(() => governor.settle(previous, undefined));
    try {
      this.admission = await this.admit(governor, { ...this.sentBody, model: target.model }, target.provider.name, target.model);
      return undefined;
    } catch (err) {
      return refusalOf(err);
    }
  }

  /** The options of a backup's request (the body with the backup's model), kept for all its tries. */
  private prepareBackup(target: Target, signal: AbortSignal | null | undefined): boolean {
    try {
      const body = this.applyAdmission({ ...this.sentBody!, model: target.model }, this.admission);
      this.backupOptions.set(target, backupOptions(this.path, body, signal));
      return true;
    } catch (err) {
      diag.warn(`llm-governor: fallback to ${target.provider.name} ${target.model} skipped: its request could not be built (${(err as Error)?.message})`);
      return false;
    }
  }

  /** The SDK's own options object of this call, from its first buildRequest on this call's client. */
  sdkRequestOptions(client: unknown, options: Record<string, unknown>): void {
    if (!this.sdkOptions && client === this.client) this.sdkOptions = options;
  }

  /** The answer served came from `target`: after a fallback, the span says so. */
  private accept(target: Target): void {
    if (target.primary) return;
    safely(() => {
      this.rec.servedProvider = target.provider.name;
      this.rec.servedModel = target.model;
      this.rec.serverAddress = target.provider.serverAddress;
      this.rec.serverPort = target.provider.serverPort;
      this.span.setAttributes({
        [ATTR.SERVED_PROVIDER]: target.provider.name,
        [ATTR.SERVED_MODEL]: target.model,
        ...(target.provider.serverAddress ? { [ATTR.SERVER_ADDRESS]: target.provider.serverAddress } : {}),
        ...(target.provider.serverPort ? { [ATTR.SERVER_PORT]: target.provider.serverPort } : {}),
      });
    });
  }

  /** The request's tokens for a TPM limit: its input, counted once, plus the output it asks for. */
  private tokens(): number {
    if (this.tokenEstimate === undefined) {
      const body = this.sentBody ?? this.rec.requestBody;
      const input = safely(() => estimateInputTokens(this.op, body)) ?? 0;
      const output = safely(() => this.op.maxOutput?.read(body)) ?? 0;
      this.tokenEstimate = input + output;
    }
    return this.tokenEstimate;
  }

  /**
   * One audit event about this call: who it is for, what it asked for and what served it, and
   * its trace. Only enqueued (see `audit/trail.ts`); `extra` overrides the call's own facts.
   */
  private audit(kind: AuditKind, extra: AuditEventFacts = {}): void {
    const trail = this.rt.audit;
    if (!trail) return;
    safely(() => {
      const rec = this.rec;
      const span = this.span.spanContext();
      const model = rec.servedModel ?? this.admission?.model ?? rec.requestModel;
      trail.record(
        kind,
        {
          operation: rec.operation,
          provider: rec.servedProvider ?? rec.provider,
          providerHost: rec.serverAddress,
          providerPort: rec.serverPort,
          model: rec.responseModel ?? model,
          requestedModel: model !== rec.requestModel ? rec.requestModel : undefined,
          userHash: hashedUser(this.attribution, this.rt.config.user_hash_salt),
          tenant: this.attribution.tenant,
          feature: this.attribution.feature,
          traceId: trace.isSpanContextValid(span) ? span.traceId : undefined,
          ...extra,
        },
        span,
      );
    });
  }

  /** The call's own event, once, at its end: completed (with usage and cost) or failed. */
  private auditEnd(outcome: Outcome, cost: CallCost | undefined, durationMs: number): void {
    const rec = this.rec;
    const u = rec.usage;
    const usage = u.inputTokens !== undefined || u.outputTokens !== undefined ? { promptTokens: u.inputTokens, completionTokens: u.outputTokens } : undefined;
    const estimated = rec.usageEstimated || !!cost?.estimated;
    if (outcome === 'error') {
      const status = (this.failure as { status?: unknown })?.status;
      const code = (this.failure as { llmGovernorCode?: unknown })?.llmGovernorCode;
      this.audit('call_failed', {
        durationMs,
        usage,
        estimated: usage ? estimated : undefined,
        costUsd: cost && !this.cached ? picoToUsd(cost.pico) : undefined,
        statusCode: typeof code === 'string' ? code : typeof status === 'number' ? status : rec.httpStatus,
        detail: rec.errorType,
      });
      return;
    }
    this.audit('call_completed', {
      durationMs,
      usage,
      estimated,
      // A cache hit spent nothing; what it saved is in the cache_hit event's call.
      costUsd: this.cached ? 0 : cost ? picoToUsd(cost.pico) : undefined,
      statusCode: rec.httpStatus ?? (this.cached ? this.cached.status : undefined),
      detail: outcome === 'completed' ? (this.cached ? 'cache_hit' : undefined) : outcome,
    });
  }

  private countRejected(reason: string): void {
    safely(() => this.rt.governor?.metrics.rejectedCall(reason));
  }

  private identity(): Record<string, string> {
    const attrs: Record<string, string> = { [ATTR.PROVIDER_NAME]: this.provider.name, [ATTR.OPERATION_NAME]: this.op.name };
    if (this.rec.requestModel) attrs[ATTR.REQUEST_MODEL] = this.rt.metrics.labels.models.label(this.rec.requestModel)!;
    return attrs;
  }

  attemptStarted(target?: Target): void {
    safely(() => {
      this.attempts++;
      if (this.attempts > 1) {
        const wait = this.lastAttemptEnd === undefined ? undefined : performance.now() - this.lastAttemptEnd;
        this.span.addEvent(EVENT.RETRY_ATTEMPT, {
          [EVENT_ATTR.ATTEMPT]: this.attempts,
          ...(wait === undefined ? {} : { [EVENT_ATTR.ATTEMPT_WAIT_MS]: Math.round(wait) }),
          ...(target && !target.primary ? { [ATTR.SERVED_PROVIDER]: target.provider.name, [ATTR.SERVED_MODEL]: target.model } : {}),
        });
      }
    });
  }

  attemptFinished(status: number | undefined, error?: unknown): void {
    safely(() => {
      this.lastAttemptEnd = performance.now();
      if (status !== undefined) this.rec.httpStatus = status;
      // Only failed attempts that may be retried are worth an event; success ends the call.
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
    if (produced) safely(() => this.estimateMissingUsage());
    const cost = produced ? safely(() => this.rt.governor?.costOf(this.rec, this.op)) : undefined;
    if (cost?.suspicious) safely(() => this.flagSuspicious(cost.suspicious!));
    // A cache hit spent nothing: what it would have cost is counted as saved.
    const spent = this.cached ? undefined : cost;
    safely(() => this.rt.governor?.settle(this.admission, spent));
    const end: CallEnd = { outcome, error: this.failure, tokens: produced ? (this.rec.usage.inputTokens ?? 0) + (this.rec.usage.outputTokens ?? 0) : 0 };
    for (const cb of this.finishers) safely(() => cb(end));
    const durationSeconds = (performance.now() - this.rec.startTime) / 1000;
    safely(() => this.auditEnd(outcome, cost, durationSeconds * 1000));
    this.span.setAttributes(endAttributes(this.rec));
    if (spent) safely(() => this.recordCost(spent));
    if (this.cached && cost) safely(() => this.recordSaved(cost));
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

  private recordCost(cost: CallCost): void {
    const usd = picoToUsd(cost.pico);
    this.span.setAttribute(ATTR.COST_USD, usd);
    if (cost.estimated) this.span.setAttribute(ATTR.COST_ESTIMATED, true);
    if (cost.priceModel) this.span.setAttribute(ATTR.PRICE_MODEL, cost.priceModel);
    const m = this.rt.governor!.metrics;
    // Charged to what served: the backup's provider and model after a fallback.
    const attrs: Record<string, string> = { [ATTR.PROVIDER_NAME]: this.rec.servedProvider ?? this.rec.provider, [ATTR.OPERATION_NAME]: this.rec.operation };
    const model = this.rec.servedModel ?? this.rec.requestModel;
    const bounded = this.rt.metrics.labels.models;
    if (model) attrs[ATTR.REQUEST_MODEL] = bounded.label(model)!;
    if (this.rec.responseModel) attrs[ATTR.RESPONSE_MODEL] = bounded.label(this.rec.responseModel)!;
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
      u.inputTokens = estimateInputTokens(this.op, rec.requestBody);
      rec.usageEstimated = true;
    }
    if (u.outputTokens === undefined && (rec.stream || rec.outputText.length)) {
      u.outputTokens = countTokensOnce(rec.outputText.join(''));
      rec.usageEstimated = true;
    }
  }
}

const TOKEN_BILLED = new Set<string>(['chat', 'text_completion', 'embeddings']);

/** Per call, `x-llm-governor-cache: on|off` in the request options' headers overrides the config. */
export const CACHE_HEADER = 'x-llm-governor-cache';

function headerOf(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  for (const [k, v] of Object.entries(headers as Record<string, unknown>)) if (k.toLowerCase() === name && typeof v === 'string') return v;
  return undefined;
}

export function spanName(rec: Pick<CallRecord, 'operation' | 'requestModel'>): string {
  return rec.requestModel ? `${rec.operation} ${rec.requestModel}` : rec.operation;
}

/**
 * The exception recorded on the span: class and message only. SDK error messages hold the
 * response body, which an upstream may fill with an echo of our credentials: redacted.
 */
function sanitizedException(error: unknown): { name: string; message: string } {
  const name = errorType(error);
  const raw = error instanceof Error ? error.message : String(error);
  return { name, message: redact(raw).slice(0, 1000) };
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

