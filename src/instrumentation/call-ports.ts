import { context, type Context, type Span } from '@opentelemetry/api';
import { governorError } from '../errors';
import type { ClientClasses, Target } from '../guards/fallback';
import type { Body, Operation } from '../operations';
import type { CallRecord } from '../operations/record';
import { applyAdmission, readmitFor } from '../pipeline/admission/reserve';
import type { Admitting } from '../pipeline/admission/types';
import type { CallEnd, CallScope } from '../pipeline/send-layer';
import type { Refusal } from '../pipeline/wire';
import type { ProviderInfo } from '../providers/detect';
import { safely } from '../util/safely';
import type { AttemptEvents } from './attempt-events';
import { fallbackFacts } from './call-audit';
import { tpmTokens } from './call-cost';
import type { CallVoice } from './call-voice';
import type { Runtime } from './runtime';
import type { SdkAttempts, SendRequest } from './sdk-attempts';
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
  readonly client: unknown;
  readonly path: string;
  readonly classes?: ClientClasses;
  /** The context the call was made in, and the one its request runs in (our span active). */
  readonly parent: Context;
  readonly ctx: Context;
  readonly rec: CallRecord;
  readonly span: Span;
  readonly voice: CallVoice;
  /** Every try of this call, built as the SDK builds one, and the span events of each. */
  readonly sdk: SdkAttempts;
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

/** The call as the admission steps see it (see `Admitting`). */
export function admittingFor(p: CallParts, original: Admitting['original'], plain: boolean): Admitting {
  const { rt, voice } = p;
  return {
    config: rt.config,
    guards: rt.guards,
    governor: rt.governor,
    op: p.op,
    provider: p.provider,
    client: p.client,
    path: p.path,
    parent: p.parent,
    rec: p.rec,
    original,
    plain,
    attribution: {},
    setAttributes: (attrs) => safely(() => p.span.setAttributes(attrs)),
    renamed: () => safely(() => p.span.updateName(spanName(p.rec))),
    audit: (kind, facts) => voice.audit(kind, facts),
    countRejected: (reason) => voice.countRejected(reason),
    identity: () => voice.identity(),
    // The moderation request is a call of its own (a child span), through the same client.
    moderations: (model, input) => context.with(p.ctx, () => (p.client as { moderations: { create(o: object): Promise<unknown> } }).moderations.create({ model, input })),
    refusal: (code, status, message, details) => governorError(p.client, code, status, message, details),
  };
}

/** The app's own provider, model and client: where the first try goes. */
export function primaryTarget(p: CallParts, s: CallState): Target {
  const model = (s.sentBody?.model as string | undefined) ?? p.rec.requestModel ?? '';
  return { provider: p.provider, model, client: p.client, primary: true };
}

/** The call as the send layers see it (see `CallScope`), for the SDK's request `req`. */
export function scopeFor(p: CallParts, s: CallState, req: SendRequest, primary: Target): CallScope {
  const { rt, voice, sdk, attempts } = p;
  return {
    config: rt.config,
    guards: rt.guards,
    signal: req.init.signal,
    controller: req.controller,
    ownsRetries: s.ownsRetries,
    maxRetries: s.maxRetries,
    stream: p.rec.stream,
    primary,
    classes: p.classes,
    requestModel: p.rec.requestModel,
    cached: s.a.cached,
    cacheKey: s.a.cacheKey,
    tokens: () => (s.tokenEstimate ??= tpmTokens(p.op, s.sentBody ?? p.rec.requestBody)),
    build: (target, retry) => sdk.build(target, retry),
    prepareBackup: (target) => sdk.prepareBackup(target, () => applyAdmission(s.a, { ...s.sentBody!, model: target.model }, s.a.admission), req.init.signal),
    switchTo: (target, from, reason) => switchTo(p, s, target, from, reason),
    served: (target) => safely(() => servedBy(p.rec, p.span, target)),
    answerRead: (value) => {
      s.answer = value;
    },
    attemptStarted: (target) => attempts.started(target),
    attemptFinished: (status, error) => attempts.finished(status, error),
    audit: (kind, facts) => voice.audit(kind, facts),
    setAttribute: (key, value) => safely(() => p.span.setAttribute(key, value)),
    countRejected: (reason) => voice.countRejected(reason),
    onFinish: (cb) => {
      p.finishers.push(cb);
    },
  };
}

/** Moving on to a backup: counted, on the span, and re-admitted on the budgets that cover it. */
async function switchTo(p: CallParts, s: CallState, target: Target, from: Target, reason: string): Promise<Refusal | undefined> {
  safely(() => p.attempts.fellBack(from, target, reason, p.rt.guards?.metrics));
  p.voice.audit('fallback', fallbackFacts(from, target, reason));
  const governor = p.rt.governor;
  if (!governor?.budgetsActive || !s.sentBody) return undefined;
  return readmitFor(s.a, governor, s.sentBody, target);
}
