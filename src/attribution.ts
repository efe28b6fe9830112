import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { propagation, type Context } from '@opentelemetry/api';

/** Who a call is for: spans and audit events carry these in full; metric labels are bounded. */
export interface Attribution {
  tenant?: string;
  user?: string;
  feature?: string;
  /** `user` is already a salted hash (it came from the request's `user` / `safety_identifier`). */
  userHashed?: boolean;
}

const storage = new AsyncLocalStorage<Attribution>();

/**
 * Runs `fn` with an attribution that every call made inside it (however deep, however async)
 * inherits. Nested calls merge: inner values win.
 *
 *   await withAttributes({ tenant: 'acme', feature: 'search' }, () => handle(req));
 */
export function withAttributes<T>(attribution: Attribution, fn: () => T): T {
  const outer = storage.getStore();
  return storage.run(outer ? { ...outer, ...clean(attribution) } : clean(attribution), fn);
}

function clean(a: Attribution): Attribution {
  const out: Attribution = {};
  if (typeof a?.tenant === 'string' && a.tenant) out.tenant = a.tenant;
  if (typeof a?.user === 'string' && a.user) out.user = a.user;
  if (typeof a?.feature === 'string' && a.feature) out.feature = a.feature;
  return out;
}

/** Baggage keys read when no `withAttributes` value is set. */
const BAGGAGE_KEYS = { tenant: 'tenant.id', user: 'user.id', feature: 'feature' } as const;

/** A stable, non-reversible id for a user identifier found in a request field. */
export function hashUser(value: string, salt: string): string {
  return 'u_' + createHash('sha256').update(salt).update('\u0000').update(value).digest('hex').slice(0, 16);
}

/**
 * The call's attribution. Precedence per dimension: `withAttributes`, then OpenTelemetry baggage
 * (`tenant.id`, `user.id`, `feature`), then the request's own `user` / `safety_identifier`
 * field, hashed with the configured salt (it may be an e-mail address).
 */
export function resolveAttribution(ctx: Context, body: Record<string, unknown> | undefined, salt: string): Attribution {
  const fromScope = storage.getStore();
  const baggage = propagation.getBaggage(ctx);
  const fromBaggage = (k: string) => baggage?.getEntry(k)?.value || undefined;
  const requestUser = typeof body?.safety_identifier === 'string' ? body.safety_identifier : typeof body?.user === 'string' ? body.user : undefined;
  const out: Attribution = {};
  const tenant = fromScope?.tenant ?? fromBaggage(BAGGAGE_KEYS.tenant);
  const user = fromScope?.user ?? fromBaggage(BAGGAGE_KEYS.user) ?? (requestUser ? hashUser(requestUser, salt) : undefined);
  const feature = fromScope?.feature ?? fromBaggage(BAGGAGE_KEYS.feature);
  if (tenant) out.tenant = tenant;
  if (user) out.user = user;
  if (user && fromScope?.user === undefined && fromBaggage(BAGGAGE_KEYS.user) === undefined) out.userHashed = true;
  if (feature) out.feature = feature;
  return out;
}

/** The user as audit events carry it: always a salted hash, never the raw identifier. */
export function hashedUser(attribution: Attribution, salt: string): string | undefined {
  if (!attribution.user) return undefined;
  return attribution.userHashed ? attribution.user : hashUser(attribution.user, salt);
}
