import { isRetryableStatus, retryDelayMs, sleep } from '../../guards/retry';
import { AttemptFailed, reasonOf, RefusedAfterFailure, type SendLayer } from '../send-layer';
import { isReadWhole, refusalIn } from '../wire';

/**
 * The one retry loop of a call (ours, for requests we can send again; the SDK's loop is set to 0):
 * a failed try (a retryable status, a timeout, a connection error, a cut-off or malformed body) is
 * tried again on the same target after the provider's `retry-after` (up to
 * `retry_after_max_seconds`) or an exponential backoff with jitter. A provider asking for longer,
 * or the last retry spent, hands the failure to the fallback walk. A 4xx is answered as it is.
 */
export const retry: SendLayer = (next) => async (req, call) => {
  const tries = call.ownsRetries ? call.maxRetries : 0;
  let last: Response | AttemptFailed | undefined;
  for (let n = 0; n <= tries; n++) {
    if (n > 0) {
      const settings = { maxDelayMs: call.config.retry_max_delay_seconds * 1000, retryAfterMaxMs: call.config.retry_after_max_seconds * 1000 };
      const wait = retryDelayMs(n, settings, last instanceof AttemptFailed ? last.response?.headers : last?.headers);
      if (wait === undefined) break; // the provider asked for longer than we wait: fall back
      call.guards?.metrics.retry(req.target.provider.name, req.target.model, reasonOf(last) ?? 'failed');
      await sleep(wait, call.signal);
    }
    let result: Response | AttemptFailed;
    try {
      result = await next({ target: req.target, retry: n }, call);
    } catch (err) {
      if (!(err instanceof AttemptFailed)) throw err; // the app's abort, or a target we cannot use
      result = err;
    }
    const refusal = result instanceof AttemptFailed ? undefined : refusalIn(result);
    if (refusal) {
      if (last) throw new RefusedAfterFailure(refusal, last);
      return result as Response;
    }
    discard(last); // replaced by a newer try: free its connection
    if (!(result instanceof AttemptFailed) && (result.ok || !isRetryableStatus(result.status, result.headers))) return result;
    last = result;
  }
  if (last instanceof AttemptFailed || !last) throw last;
  return last;
};

/** Frees a failed answer's connection: a web stream (fetch) or a Node stream (openai 4's node-fetch). */
export function discard(last: Response | AttemptFailed | undefined): void {
  const response = last instanceof AttemptFailed ? last.response : last;
  if (!response || response.bodyUsed || isReadWhole(response)) return;
  const body = response.body as { cancel?: () => Promise<void>; destroy?: () => void } | null | undefined;
  try {
    if (typeof body?.cancel === 'function') void body.cancel().catch(() => undefined);
    else if (typeof body?.destroy === 'function') body.destroy();
  } catch {
    // Freeing a connection never fails a call.
  }
}
