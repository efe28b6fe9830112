import type { Span } from '@opentelemetry/api';
import type { Target } from '../guards/fallback';
import type { ResilienceMetrics } from '../guards/metrics';
import type { CallRecord } from '../operations/record';
import { errorType } from '../pipeline/error-type';
import { ATTR, EVENT, EVENT_ATTR } from '../semconv';
import { safely } from '../util/safely';

/**
 * The tries of a call, as span events: every try after the first (`llm_governor.attempt`, with
 * the wait before it and the backup it went to), and every failed one (`….failed`, with its
 * status or error type). The last status is the call's `http.response.status_code`.
 */
export class AttemptEvents {
  private attempts = 0;
  private lastEnd?: number;

  constructor(
    private readonly span: Span,
    private readonly rec: CallRecord,
  ) {}

  started(target?: Target): void {
    safely(() => {
      this.attempts++;
      if (this.attempts === 1) return;
      const wait = this.lastEnd === undefined ? undefined : performance.now() - this.lastEnd;
      this.span.addEvent(EVENT.RETRY_ATTEMPT, {
        [EVENT_ATTR.ATTEMPT]: this.attempts,
        ...(wait === undefined ? {} : { [EVENT_ATTR.ATTEMPT_WAIT_MS]: Math.round(wait) }),
        ...(target && !target.primary ? { [ATTR.SERVED_PROVIDER]: target.provider.name, [ATTR.SERVED_MODEL]: target.model } : {}),
      });
    });
  }

  finished(status: number | undefined, error?: unknown): void {
    safely(() => {
      this.lastEnd = performance.now();
      if (status !== undefined) this.rec.httpStatus = status;
      // Only failed attempts that may be retried are worth an event; success ends the call.
      if (error === undefined && (status === undefined || status < 400)) return;
      this.span.addEvent(EVENT.RETRY_ATTEMPT + '.failed', {
        [EVENT_ATTR.ATTEMPT]: this.attempts,
        ...(status === undefined ? {} : { [EVENT_ATTR.ATTEMPT_STATUS]: status }),
        ...(error === undefined ? {} : { [EVENT_ATTR.ATTEMPT_ERROR]: errorType(error) }),
      });
    });
  }

  /** A move to a backup: counted, and an event on the span. */
  fellBack(from: Target, to: Target, reason: string, metrics: ResilienceMetrics | undefined): void {
    const fromName = `${from.provider.name}/${from.model}`;
    const toName = `${to.provider.name}/${to.model}`;
    metrics?.fallback(fromName, toName, reason);
    this.span.addEvent(EVENT.FALLBACK, { [ATTR.FROM]: fromName, [ATTR.TO]: toName, [ATTR.REJECT_REASON]: reason });
  }
}
