import type { Span } from '@opentelemetry/api';
import type { AuditEventFacts, AuditKind } from '../audit';
import type { CallCost } from '../cost/governor';
import { picoToUsd } from '../cost/money';
import type { CallRecord } from '../operations/record';
import type { Admitting } from '../pipeline/admission/types';
import type { ProviderInfo } from '../providers/detect';
import { ATTR } from '../semconv';
import { safely } from '../util/safely';
import { callFacts } from './call-audit';
import type { Runtime } from './runtime';

/**
 * What a call says about itself outside its span: its audit events, the rejection and
 * suspicious-usage counts, the cache's savings, and the bounded metric identity they all carry.
 * Only enqueues and counts; never throws.
 */
export class CallVoice {
  constructor(
    private readonly rt: Runtime,
    private readonly provider: ProviderInfo,
    private readonly rec: CallRecord,
    private readonly span: Span,
    /** The admission's state as it is now (attribution, reservation, cache). */
    private readonly admitting: () => Admitting,
  ) {}

  /** One audit event about this call, with the call's own facts; only enqueued (see `audit/trail.ts`). */
  audit(kind: AuditKind, extra: AuditEventFacts = {}): void {
    const trail = this.rt.audit;
    if (trail?.wanted) safely(() => trail.record(kind, callFacts(this.rec, this.admitting(), this.span, extra), this.span.spanContext()));
  }

  /** Some audit sink takes events: worth gathering the facts of one. */
  get auditing(): boolean {
    return this.rt.audit?.wanted === true;
  }

  countRejected(reason: string): void {
    safely(() => this.rt.governor?.metrics.rejectedCall(reason));
  }

  /** Metric attributes of the call: provider, operation, request model (bounded). */
  identity(): Record<string, string> {
    const attrs: Record<string, string> = { [ATTR.PROVIDER_NAME]: this.provider.name, [ATTR.OPERATION_NAME]: this.rec.operation };
    if (this.rec.requestModel) attrs[ATTR.REQUEST_MODEL] = this.rt.metrics.labels.models.label(this.rec.requestModel)!;
    return attrs;
  }

  /** Usage that cannot be true: flagged everywhere, its tokens kept out of the token metrics. */
  flagSuspicious(reason: string): void {
    this.rec.usageSuspicious = reason;
    this.span.setAttribute(ATTR.USAGE_SUSPICIOUS, reason);
    this.rt.governor?.metrics.suspiciousUsage({ ...this.identity(), [ATTR.REJECT_REASON]: reason });
    this.audit('usage_suspicious', { detail: reason, estimated: true });
  }

  /** A cache hit: nothing spent, what the call would have cost counted as saved. */
  recordSaved(cost: CallCost): void {
    const usd = picoToUsd(cost.pico);
    this.span.setAttributes({ [ATTR.COST_USD]: 0, [ATTR.CACHE_SAVED_USD]: usd });
    this.rt.guards?.cache.countSaved(usd, this.identity());
  }
}
