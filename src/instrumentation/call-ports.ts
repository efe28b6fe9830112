import type { Attributes, Context, Span } from '@opentelemetry/api';
import type { Attribution } from '../attribution';
import type { AuditEventFacts, AuditKind } from '../audit';
import type { GovernorConfig } from '../config/schema';
import type { Admission } from '../cost/engine';
import type { Governor } from '../cost/governor';
import type { Guards } from '../guards';
import type { CachedResponse } from '../guards/cache';
import { governorError } from '../errors';
import type { BackupMaker } from '../guards/backup-env';
import type { Target } from '../guards/fallback';
import type { Body, Operation } from '../operations';
import type { CallRecord } from '../operations/record';
import { applyAdmission, readmitFor } from '../pipeline/admission/reserve';
import type { Admitting } from '../pipeline/admission/types';
import type { BuiltAttempt, CallEnd, CallScope } from '../pipeline/send-layer';
import type { Refusal } from '../pipeline/wire';
import type { ProviderInfo } from '../providers/detect';
import { ATTR } from '../semconv';
import { safely } from '../util/safely';
import type { AttemptEvents } from './attempt-events';
import { fallbackFacts } from './call-audit';
import { tpmTokens } from './call-cost';
import type { CallVoice } from './call-voice';
import type { Runtime } from './runtime';
import type { CallAdapter, SendRequest } from './call-adapter';
import { servedBy, spanName } from './span-attributes';

/**
 * The two faces a call shows the pipeline: `Admitting` to the admission steps and `CallScope` to
 * the send layers. Each is built from the call's parts, and neither gives a step or a layer the
 * call object itself: what they may read and decide is exactly what these interfaces list.
 */

/** What a call is, from its start: set once. */
export interface CallParts {
  readonly rt: Runtime;
  readonly op: Operation;
  readonly provider: ProviderInfo;
  /** The way in (the SDK or fetch): how each try is built and sent. */
  readonly adapter: CallAdapter;
  /** The context the call was made in, and the one its request runs in (our span active). */
  readonly parent: Context;
  readonly ctx: Context;
  readonly rec: CallRecord;
  readonly span: Span;
  readonly voice: CallVoice;
  /** The span events of each try. */
  readonly attempts: AttemptEvents;
  /** What the send layers asked to run when the call ends (breaker tickets, rate-limit corrections). */
  readonly finishers: Array<(end: CallEnd) => void>;
}

/** What the call decided on its way: the admission's state, the body as sent, who retries. */
export interface CallState {
  a: Admitting;
  /** The body as sent (after our changes), for backups and the cache. */
  sentBody?: Body;
  /** True when our loop retries and falls back (a JSON body we can send again). */
  ownsRetries: boolean;
  maxRetries: number;
  tokenEstimate?: number;
  /** The JSON value of the answer's body, read whole by the send step (until the call ends). */
  answer?: unknown;
}

/** The call as the admission steps see it (see `Admitting`): one object, its methods shared. */
class AdmittingView implements Admitting {
  body?: Body;
  attribution: Attribution = {};
  cached?: CachedResponse;
  cacheKey?: string;
  admission?: Admission;

  constructor(
    private readonly p: CallParts,
    readonly original: Admitting['original'],
    readonly plain: boolean,
  ) {}

  get config(): GovernorConfig {
    return this.p.rt.config;
  }
  get guards(): Guards | undefined {
    return this.p.rt.guards;
  }
  get governor(): Governor | undefined {
    return this.p.rt.governor;
  }
  get op(): Operation {
    return this.p.op;
  }
  get provider(): ProviderInfo {
    return this.p.provider;
  }
  get client(): unknown {
    return this.p.adapter.client;
  }
  get path(): string {
    return this.p.adapter.path;
  }
  get parent(): Context {
    return this.p.parent;
  }
  get rec(): CallRecord {
    return this.p.rec;
  }
  setAttributes(attrs: Attributes): void {
    safely(() => this.p.span.setAttributes(attrs));
  }
  renamed(): void {
    safely(() => this.p.span.updateName(spanName(this.p.rec)));
  }
  audit(kind: AuditKind, facts?: AuditEventFacts): void {
    this.p.voice.audit(kind, facts);
  }
  countRejected(reason: string): void {
    this.p.voice.countRejected(reason);
  }
  identity(): Record<string, string> {
    return this.p.voice.identity();
  }
  moderations(model: string, input: unknown): Promise<unknown> {
    return this.p.adapter.moderations(model, input, this.p.ctx);
  }
  refusal(code: 'content_blocked', status: number, message: string, details: object): Error {
    return governorError(this.p.adapter.client, code, status, message, details);
  }
}

export function admittingFor(p: CallParts, original: Admitting['original'], plain: boolean): Admitting {
  return new AdmittingView(p, original, plain);
}

/** The app's own provider, model and client: where the first try goes. */
export function primaryTarget(p: CallParts, s: CallState): Target {
  const model = (s.sentBody?.model as string | undefined) ?? p.rec.requestModel ?? '';
  return { provider: p.provider, model, client: p.adapter.client, primary: true };
}

/** The call as the send layers see it (see `CallScope`), for the SDK's request `req`: one object, its methods shared. */
class ScopeView implements CallScope {
  constructor(
    private readonly p: CallParts,
    private readonly s: CallState,
    private readonly req: SendRequest,
    readonly primary: Target,
  ) {}

  get config(): GovernorConfig {
    return this.p.rt.config;
  }
  get guards(): Guards | undefined {
    return this.p.rt.guards;
  }
  get signal(): AbortSignal | null | undefined {
    return this.req.init.signal;
  }
  get controller(): AbortController {
    return this.req.controller;
  }
  get ownsRetries(): boolean {
    return this.s.ownsRetries;
  }
  get maxRetries(): number {
    return this.s.maxRetries;
  }
  get stream(): boolean {
    return this.p.rec.stream;
  }
  get backupMaker(): BackupMaker | undefined {
    return this.p.adapter.backupMaker;
  }
  get requestModel(): string | undefined {
    return this.p.rec.requestModel;
  }
  get cached(): CachedResponse | undefined {
    return this.s.a.cached;
  }
  get cacheKey(): string | undefined {
    return this.s.a.cacheKey;
  }
  tokens(): number {
    const s = this.s;
    return (s.tokenEstimate ??= tpmTokens(this.p.op, s.sentBody ?? this.p.rec.requestBody));
  }
  build(target: Target, retry: number): Promise<BuiltAttempt> {
    return this.p.adapter.build(target, retry);
  }
  prepareBackup(target: Target): boolean {
    const s = this.s;
    return this.p.adapter.prepareBackup(target, () => applyAdmission(s.a, { ...s.sentBody!, model: target.model }, s.a.admission), this.req.init.signal);
  }
  /** Moving on to a backup: counted, on the span, and re-admitted on the budgets that cover it. */
  async switchTo(target: Target, from: Target, reason: string): Promise<Refusal | undefined> {
    const { p, s } = this;
    safely(() => p.attempts.fellBack(from, target, reason, p.rt.guards?.metrics));
    p.voice.audit('fallback', fallbackFacts(from, target, reason));
    const governor = p.rt.governor;
    if (!governor?.budgetsActive || !s.sentBody) return undefined;
    return readmitFor(s.a, governor, s.sentBody, target);
  }
  served(target: Target): void {
    safely(() => servedBy(this.p.rec, this.p.span, target));
  }
  answerRead(value: unknown): void {
    this.s.answer = value;
  }
  /** Every target was down and the cache answered past its TTL: from here on the call is a cache hit (nothing charged). */
  servedStale(entry: CachedResponse): void {
    const { p, s } = this;
    s.a.cached = entry;
    p.rec.cacheHit = true;
    p.rec.httpStatus = entry.status;
    safely(() => p.span.setAttribute(ATTR.CACHE_STALE, true));
    safely(() => p.rt.guards?.cache.countLookup('stale', p.voice.identity()));
    p.voice.audit('cache_stale_served', { statusCode: entry.status });
  }
  attemptStarted(target: Target): void {
    this.p.attempts.started(target);
  }
  attemptFinished(status: number | undefined, error?: unknown): void {
    this.p.attempts.finished(status, error);
  }
  audit(kind: AuditKind, facts?: AuditEventFacts): void {
    this.p.voice.audit(kind, facts);
  }
  setAttribute(key: string, value: string | number | boolean | string[]): void {
    safely(() => this.p.span.setAttribute(key, value));
  }
  countRejected(reason: string): void {
    this.p.voice.countRejected(reason);
  }
  onFinish(cb: (end: CallEnd) => void): void {
    this.p.finishers.push(cb);
  }
}

export function scopeFor(p: CallParts, s: CallState, req: SendRequest, primary: Target): CallScope {
  return new ScopeView(p, s, req, primary);
}
