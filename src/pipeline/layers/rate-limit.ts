import type { Target } from '../../guards/fallback';
import { RateLimitWaitExceeded, type RateLimiter, type RateLimitPermit, type RateLimitTarget } from '../../guards/rate-limit';
import { ATTR } from '../../semconv';
import type { CallScope, Outgoing, Send, SendLayer } from '../send-layer';
import { refusalIn, refusalResponse, type Refusal } from '../wire';

/**
 * The client-side rate limit of the attempt's target: waits in its fair queue (a configured
 * RPM/TPM limit, or a pause the provider asked for with `x-ratelimit-*`), or refuses once the wait
 * would pass the maximum; then reads the provider's rate-limit headers off the answer. The served
 * attempt's entry is corrected to the call's real tokens when it ends; one that a later guard
 * refused (nothing sent) is taken back.
 */
export const rateLimit: SendLayer = (next) => (req, call) => {
  const limiter = call.guards?.limiter;
  if (!limiter) return next(req, call);
  return limited(next, req, call, limiter);
};

async function limited(next: Send, req: Outgoing, call: CallScope, limiter: RateLimiter): Promise<Response> {
  const target = limiterTarget(req.target);
  let permit: RateLimitPermit;
  try {
    permit = await limiter.acquire(target, limiter.active ? call.tokens() : 0, call.signal ?? undefined);
  } catch (err) {
    if (!(err instanceof RateLimitWaitExceeded)) throw err; // the app's abort
    return refusalResponse(refused(call, req.target, err));
  }
  if (permit.waitedMs > 0) call.setAttribute(ATTR.RATE_LIMIT_WAIT_MS, Math.round(permit.waitedMs));
  const response = await next(req, call);
  if (refusalIn(response)) {
    permit.cancel();
    return response;
  }
  try {
    limiter.observe(target, response.headers);
  } catch {
    // A provider's junk headers never fail the call.
  }
  if (response.ok) {
    const served = permit;
    call.onFinish((end) => served.settle(end.tokens));
  }
  return response;
}

/** A rate-limit target: per endpoint (host and port), since a provider's quota is per endpoint. */
function limiterTarget(target: Target): RateLimitTarget {
  const p = target.provider;
  return { provider: p.name, model: target.model, server: p.serverAddress && (p.serverPort ? `${p.serverAddress}:${p.serverPort}` : p.serverAddress) };
}

function refused(call: CallScope, target: Target, waited: RateLimitWaitExceeded): Refusal {
  const name = `${target.provider.name} ${target.model}`;
  const message = waited.limiter.includes('provider-')
    ? `llm-governor: ${name} answered that nothing is left of its ${waited.limiter.split('provider-')[1]} rate limit for another ${Math.ceil((waited.retryAfterMs ?? 0) / 1000)} s, longer than the rate limiter's maximum wait; nothing was sent`
    : `llm-governor: the client-side rate limit for ${name} held this call for ${Math.round(waited.waitedMs)} ms, its maximum wait; nothing was sent`;
  call.audit('rate_limit_rejected', {
    provider: target.provider.name,
    model: target.model,
    providerHost: target.provider.serverAddress,
    providerPort: target.provider.serverPort,
    statusCode: 'rate_limited',
    detail: `${waited.limiter} limit; waited ${Math.round(waited.waitedMs)} ms`,
  });
  return { code: 'rate_limited', status: 429, message, details: { limiter: waited.limiter, waitedMs: waited.waitedMs, retryAfterMs: waited.retryAfterMs } };
}
