import type { GovernorErrorCode } from '../errors';

/**
 * Whether a call's walk down its targets ended in an outage: the facts the stale-answer layer
 * decides on (`cache_serve_stale_seconds`). The fallback walk notes how each target's turn ended
 * and marks its final failure (the answer it returns, or the error it throws) when every target it
 * tried was down.
 *
 * A target is down when its last try was a 5xx, a timeout, a connection error, a cut-off or
 * malformed body, or its breaker was open. It answered when it gave a 429 or any other 4xx (the
 * provider is up). It was refused when a guard of ours said no (a budget, the rate limit). It was
 * skipped when its request could not be made (nothing was tried).
 */
export type TargetEnding = 'down' | 'answered' | 'refused' | 'skipped';

/** A target's turn that ended in a failed answer with `status` (retries spent). Pure. */
export function statusEnding(status: number): TargetEnding {
  return status >= 500 ? 'down' : 'answered';
}

/** A target's turn that ended in a refusal of ours. Pure. */
export function refusalEnding(code: GovernorErrorCode): TargetEnding {
  return code === 'circuit_open' ? 'down' : 'refused';
}

/** An outage: at least one target down, and every other one down or skipped. Pure. */
export function isOutage(endings: readonly TargetEnding[]): boolean {
  return endings.includes('down') && endings.every((e) => e === 'down' || e === 'skipped');
}

/** A walk's final failures that ended an outage (answers and errors; a primitive cannot be marked). */
const OUTAGES = new WeakSet<object>();

/** Runs the walk's last step (an answer to return, or a throw) and marks its failure when the walk was an outage. */
export function settledOutage(outage: boolean, settle: () => Response): Response {
  try {
    const response = settle();
    if (outage) OUTAGES.add(response);
    return response;
  } catch (err) {
    if (outage && typeof err === 'object' && err !== null) OUTAGES.add(err);
    throw err;
  }
}

/** The walk's final failure (answer or error) ended an outage. */
export function endedOutage(failure: unknown): boolean {
  return typeof failure === 'object' && failure !== null && OUTAGES.has(failure);
}
