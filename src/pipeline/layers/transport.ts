import { isBreakerFailure } from '../../guards/breaker';
import { rememberRequestCredentials } from '../../redaction';
import { safely } from '../../util/safely';
import { AttemptFailed, type CallScope, type Send } from '../send-layer';
import { errorType } from '../error-type';
import { isAbort, isJsonAnswer, withBody } from '../wire';

/**
 * The innermost step: one HTTP attempt, with its own AbortController. The per-attempt timeout
 * aborts only this attempt, while an abort of the call's controller (the app's
 * `stream.controller.abort()`, or its signal) is forwarded to it. A JSON answer our loop owns is
 * read whole here, within the same timeout, so that a stalled, cut-off or malformed body is a
 * failed attempt that can be retried, not a failure in the app's hands.
 */
export const transport: Send = async (req, call) => {
  const built = await call.build(req.target, req.retry);
  call.attemptStarted(req.target);
  safely(() => rememberRequestCredentials(built.headers)); // an echo of them is redacted
  const started = performance.now();
  const controller = new AbortController();
  const callSignal = call.controller.signal;
  const forward = () => controller.abort(callSignal.reason);
  if (callSignal.aborted) controller.abort(callSignal.reason);
  else callSignal.addEventListener('abort', forward, { once: true });
  const byApp = () => isAbort(call.signal) || callSignal.aborted;
  let response: Response | undefined;
  try {
    response = await built.send(controller);
    if (response.ok && call.ownsRetries && !call.stream && isJsonAnswer(response)) {
      response = await readWhole(response, controller, built.ms - (performance.now() - started), call);
    }
  } catch (err) {
    callSignal.removeEventListener('abort', forward);
    const failed = err instanceof AttemptFailed ? err : undefined;
    call.attemptFinished(response?.status, failed ? failed.error : err);
    if (byApp()) throw failed ? failed.error : err;
    if (failed) throw failed;
    // A timeout is our attempt's controller aborted, not by the app: it counts against the provider.
    const timedOut = controller.signal.aborted;
    throw new AttemptFailed(err, timedOut ? 'timeout' : errorType(err), timedOut || isBreakerFailure(err));
  }
  call.attemptFinished(response.status);
  if (!response.ok) callSignal.removeEventListener('abort', forward);
  return response;
};

/** Reads a JSON body whole within what is left of the timeout; a malformed one fails the attempt. */
async function readWhole(response: Response, controller: AbortController, leftMs: number, call: CallScope): Promise<Response> {
  const timer = Number.isFinite(leftMs) ? setTimeout(() => controller.abort(), Math.max(0, leftMs)) : undefined;
  let text: string;
  try {
    text = await response.text();
  } finally {
    clearTimeout(timer);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    // Out of tries, the app gets the answer itself, and the SDK's own error on parsing it.
    throw new AttemptFailed(err, errorType(err), isBreakerFailure(err), withBody(response, text));
  }
  call.answerRead(parsed);
  return withBody(response, text, parsed);
}
