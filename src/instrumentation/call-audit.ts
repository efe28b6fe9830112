import { trace, type Span } from '@opentelemetry/api';
import { hashedUser } from '../attribution';
import type { AuditEventFacts, AuditKind } from '../audit';
import type { CallCost } from '../cost/governor';
import { picoToUsd } from '../cost/money';
import type { Target } from '../guards/fallback';
import type { CallRecord } from '../operations/record';
import type { Admitting } from '../pipeline/admission/types';
import type { CallEnd } from '../pipeline/send-layer';

/**
 * A call's audit facts: who it is for, what it asked for and what served it, and its trace.
 * `extra` overrides the call's own facts.
 */
export function callFacts(rec: CallRecord, a: Admitting, span: Span, extra: AuditEventFacts): AuditEventFacts {
  const ctx = span.spanContext();
  const model = rec.servedModel ?? a.admission?.model ?? rec.requestModel;
  return {
    operation: rec.operation,
    provider: rec.servedProvider ?? rec.provider,
    providerHost: rec.serverAddress,
    providerPort: rec.serverPort,
    model: rec.responseModel ?? model,
    requestedModel: model !== rec.requestModel ? rec.requestModel : undefined,
    userHash: hashedUser(a.attribution, a.config.user_hash_salt),
    tenant: a.attribution.tenant,
    feature: a.attribution.feature,
    traceId: trace.isSpanContextValid(ctx) ? ctx.traceId : undefined,
    ...extra,
  };
}

/** The call's own event, at its end: completed (with usage and cost) or failed. */
export function endEvent(outcome: CallEnd['outcome'], rec: CallRecord, a: Admitting, cost: CallCost | undefined, failure: unknown, durationMs: number): [AuditKind, AuditEventFacts] {
  const u = rec.usage;
  const usage = u.inputTokens !== undefined || u.outputTokens !== undefined ? { promptTokens: u.inputTokens, completionTokens: u.outputTokens } : undefined;
  const estimated = rec.usageEstimated || !!cost?.estimated;
  if (outcome === 'error') {
    const status = (failure as { status?: unknown })?.status;
    const code = (failure as { llmGovernorCode?: unknown })?.llmGovernorCode;
    return [
      'call_failed',
      {
        durationMs,
        usage,
        estimated: usage ? estimated : undefined,
        costUsd: cost && !a.cached ? picoToUsd(cost.pico) : undefined,
        statusCode: typeof code === 'string' ? code : typeof status === 'number' ? status : rec.httpStatus,
        detail: rec.errorType,
      },
    ];
  }
  return [
    'call_completed',
    {
      durationMs,
      usage,
      estimated,
      // A cache hit spent nothing; what it saved is in the cache_hit event's call.
      costUsd: a.cached ? 0 : cost ? picoToUsd(cost.pico) : undefined,
      statusCode: rec.httpStatus ?? (a.cached ? a.cached.status : undefined),
      detail: outcome === 'completed' ? (a.cached ? 'cache_hit' : undefined) : outcome,
    },
  ];
}

/** A move to a backup: where it went, from where, and why. */
export function fallbackFacts(from: Target, to: Target, reason: string): AuditEventFacts {
  return {
    provider: to.provider.name,
    model: to.model,
    providerHost: to.provider.serverAddress,
    providerPort: to.provider.serverPort,
    fallbackFrom: { provider: from.provider.name, model: from.model },
    detail: reason,
  };
}
