import { backupsFor, type Target } from '../../guards/fallback';
import { isRetryableStatus } from '../../guards/retry';
import { REJECT_REASON } from '../../semconv';
import { isOutage, refusalEnding, settledOutage, statusEnding, type TargetEnding } from '../outage';
import { AttemptFailed, reasonOf, RefusedAfterFailure, settleFailure, TargetUnusable, type CallScope, type SendLayer } from '../send-layer';
import { refusalIn, refusalResponse, type Refusal } from '../wire';

/**
 * The walk down the fallback chain: the app's own provider first, then each configured backup,
 * as long as the last one failed (its retries spent, its breaker open). A 4xx, or a rate-limit
 * or budget refusal, ends the walk. When it ends in failure the app sees the last provider's own
 * failure; a refusal of ours only when nothing was tried. A walk whose every tried target was down
 * marks that failure as an outage (see `outage.ts`), for the stale-answer layer.
 */
export const fallback: SendLayer = (next) => async (_req, call) => {
  const targets = targetsOf(call);
  let last: Response | AttemptFailed | undefined;
  let refusal: Refusal | undefined;
  const endings: TargetEnding[] = [];
  for (let t = 0; t < targets.length; t++) {
    const target = targets[t]!;
    if (t > 0) {
      const refused = await call.switchTo(target, targets[t - 1]!, refusal ? refusal.code : (reasonOf(last) ?? 'failed'));
      if (refused) {
        refusal = refused;
        endings.push('refused');
        continue;
      }
      if (!call.prepareBackup(target)) {
        endings.push('skipped');
        continue;
      }
    }
    refusal = undefined;
    let result: Response;
    try {
      result = await next({ target, retry: 0 }, call);
    } catch (err) {
      if (err instanceof TargetUnusable) {
        endings.push('skipped');
        continue;
      }
      if (err instanceof RefusedAfterFailure) {
        last = err.last;
        refusal = err.refusal;
        endings.push(refusalEnding(refusal.code));
        if (refusal.code !== 'circuit_open') break;
        continue;
      }
      if (!(err instanceof AttemptFailed)) throw err;
      last = err;
      endings.push('down');
      continue;
    }
    const refused = refusalIn(result);
    if (refused) {
      refusal = refused;
      endings.push(refusalEnding(refused.code));
      if (refused.code !== 'circuit_open') break; // rate limited: not a provider failure
      continue;
    }
    if (result.ok) {
      call.served(target);
      return result;
    }
    if (!isRetryableStatus(result.status, result.headers)) return result; // a 4xx: neither retried nor sent elsewhere
    last = result;
    endings.push(statusEnding(result.status));
  }
  const outage = isOutage(endings);
  if (refusal) {
    // Refused after a real attempt failed: the app sees that provider's own failure.
    const failed = last;
    if (failed) return settledOutage(outage, () => settleFailure(failed));
    // Budget refusals were counted by the governor, with their budget's name.
    if (refusal.code === 'circuit_open') call.countRejected(REJECT_REASON.CIRCUIT_OPEN);
    if (refusal.code === 'rate_limited') call.countRejected(REJECT_REASON.RATE_LIMITED);
    const refused = refusal;
    return settledOutage(outage, () => refusalResponse(refused));
  }
  return settledOutage(outage, () => settleFailure(last!));
};

/** The app's provider, then (when our loop is in charge) the configured backups. */
function targetsOf(call: CallScope): Target[] {
  const primary = call.primary;
  const guards = call.guards;
  if (!call.ownsRetries || !guards || !call.backupMaker || !call.config.fallbacks.length) return [primary];
  const configs = backupsFor(call.config.fallbacks, primary.provider.name, call.requestModel);
  return configs.length ? [primary, ...guards.backups.targets(configs, primary.model, call.backupMaker)] : [primary];
}
