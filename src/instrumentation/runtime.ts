import type { Tracer } from '@opentelemetry/api';
import type { AuditRecorder } from '../audit/trail';
import type { GovernorConfig } from '../config/schema';
import type { Governor } from '../cost/governor';
import type { Guards } from '../guards';
import type { GenAiMetrics } from './metrics';

/** A call that has started and not yet finished: ended as incomplete when the process stops. */
export interface OpenCall {
  abandon(outcome: 'incomplete'): void;
}

/** What every call shares: set up once by the instrumentation. */
export interface Runtime {
  readonly config: GovernorConfig;
  readonly tracer: Tracer;
  readonly metrics: GenAiMetrics;
  /** Calls that have started and not yet finished (flushed as incomplete on shutdown). */
  readonly open: Set<OpenCall>;
  /** Cost and budgets; absent only where no meter exists yet. */
  readonly governor?: Governor;
  /** Breakers, rate limits, cache, moderation and fallbacks; absent only where no meter exists yet. */
  readonly guards?: Guards;
  /** The audit trail: one OCSF event per call and per decision (only enqueued here). */
  readonly audit?: AuditRecorder;
}
