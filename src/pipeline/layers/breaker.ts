import { isBreakerFailure, type BreakerKey, type Breakers, type BreakerTicket } from '../../guards/breaker';
import type { Target } from '../../guards/fallback';
import { AttemptFailed, type CallScope, type Outgoing, type Send, type SendLayer } from '../send-layer';
import { refusalOf, refusalResponse, type Refusal } from '../wire';

/**
 * The circuit breaker of the attempt's target (provider, model, server): open, it refuses and
 * nothing is sent; else it admits the attempt (in half-open, the one trial) and settles the
 * ticket with the outcome: a 5xx, a 429, a timeout, a connection error or a cut-off body count
 * against the provider. A served answer's ticket is settled when the call ends (a stream can
 * still break).
 */
export const breaker: SendLayer = (next) => (req, call) => {
  const breakers = call.guards?.breakers;
  if (!breakers) return next(req, call);
  return guarded(next, req, call, breakers);
};

async function guarded(next: Send, req: Outgoing, call: CallScope, breakers: Breakers): Promise<Response> {
  const key = breakerKey(req.target);
  if (breakers.isOpen(key)) return refusalResponse(circuitOpen(call, key, req.target.client));
  let ticket: BreakerTicket;
  try {
    ticket = breakers.admit(key, req.target.client);
  } catch (err) {
    return refusalResponse(refusalOf(err) ?? circuitOpen(call, key, req.target.client));
  }
  let response: Response;
  try {
    response = await next(req, call);
  } catch (err) {
    ticket.settle(err instanceof AttemptFailed && err.providerFault);
    throw err;
  }
  if (response.ok) {
    const served = ticket;
    call.onFinish((end) => served.settle(end.outcome === 'error' && isBreakerFailure(end.error)));
  } else ticket.settle(response.status >= 500 || response.status === 429);
  return response;
}

function breakerKey(target: Target): BreakerKey {
  const p = target.provider;
  return { id: `${p.name}|${target.model}|${p.serverAddress ?? ''}|${p.serverPort ?? ''}`, provider: p.name, model: target.model, server: p.serverAddress };
}

function circuitOpen(call: CallScope, key: BreakerKey, client: unknown): Refusal {
  let r: Refusal | undefined;
  try {
    r = refusalOf(call.guards!.breakers!.refusal(key, client));
  } catch {
    r = undefined;
  }
  return r ?? { code: 'circuit_open', status: 503, message: `llm-governor: the circuit breaker for ${key.provider} ${key.model} is open; nothing was sent`, details: { breaker: key.id } };
}
