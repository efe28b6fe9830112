import { redact } from '../redaction';
import { randomUUID } from 'node:crypto';

/**
 * The audit trail's event format: the subset of OCSF 1.8 **API Activity** (`class_uid` 6003,
 * category 6 "Application Activity") with the `ai_operation` profile that we emit, as one zod
 * schema, and one builder, `auditEvent(kind, facts)`, for every event kind.
 *
 * Every object is `.strict()`: a key the schema does not name (a prompt, a header, an API key
 * copied by mistake) makes the event invalid rather than silently travelling to a SIEM.
 *
 * The field mapping (our facts → OCSF fields) is documented once, for users, in README.md
 * ("Audit trail"); `auditEvent` below is its implementation and `test/audit/ocsf.test.ts` pins it.
 */

import {
  ACTIVITY,
  ACTIVITY_NAME,
  API_ACTIVITY_CLASS_UID,
  APPLICATION_CATEGORY_UID,
  type DECISIONS,
  OCSF_VERSION,
  SEVERITY,
  SEVERITY_NAME,
  STATUS,
  STATUS_NAME,
  type OcsfApiActivity,
} from './ocsf-schema';

export { DECISIONS, ocsfApiActivitySchema, type OcsfApiActivity } from './ocsf-schema';

/** Every event kind, with its OCSF activity, status and severity. */
export const AUDIT_KINDS = {
  call_completed: { activity: ACTIVITY.CREATE, status: STATUS.SUCCESS, severity: SEVERITY.INFORMATIONAL, decision: 'allow' },
  call_failed: { activity: ACTIVITY.CREATE, status: STATUS.FAILURE, severity: SEVERITY.MEDIUM, decision: undefined },
  budget_threshold_crossed: { activity: ACTIVITY.CREATE, status: STATUS.SUCCESS, severity: SEVERITY.LOW, decision: 'alert' },
  budget_forecast_crossed: { activity: ACTIVITY.CREATE, status: STATUS.SUCCESS, severity: SEVERITY.LOW, decision: 'alert' },
  budget_block: { activity: ACTIVITY.CREATE, status: STATUS.FAILURE, severity: SEVERITY.MEDIUM, decision: 'block' },
  token_cap_applied: { activity: ACTIVITY.CREATE, status: STATUS.SUCCESS, severity: SEVERITY.LOW, decision: 'cap_tokens' },
  downgrade_applied: { activity: ACTIVITY.CREATE, status: STATUS.SUCCESS, severity: SEVERITY.LOW, decision: 'downgrade' },
  breaker_opened: { activity: ACTIVITY.OTHER, status: STATUS.FAILURE, severity: SEVERITY.HIGH, decision: undefined },
  breaker_half_opened: { activity: ACTIVITY.OTHER, status: STATUS.SUCCESS, severity: SEVERITY.INFORMATIONAL, decision: undefined },
  breaker_closed: { activity: ACTIVITY.OTHER, status: STATUS.SUCCESS, severity: SEVERITY.INFORMATIONAL, decision: undefined },
  rate_limit_rejected: { activity: ACTIVITY.CREATE, status: STATUS.FAILURE, severity: SEVERITY.MEDIUM, decision: 'rate_limited' },
  cache_hit: { activity: ACTIVITY.READ, status: STATUS.SUCCESS, severity: SEVERITY.INFORMATIONAL, decision: 'cache_hit' },
  cache_stale_served: { activity: ACTIVITY.READ, status: STATUS.SUCCESS, severity: SEVERITY.LOW, decision: 'cache_hit' },
  moderation_block: { activity: ACTIVITY.CREATE, status: STATUS.FAILURE, severity: SEVERITY.HIGH, decision: 'moderation_block' },
  fallback: { activity: ACTIVITY.CREATE, status: STATUS.SUCCESS, severity: SEVERITY.LOW, decision: 'fallback' },
  budget_store_unavailable: { activity: ACTIVITY.OTHER, status: STATUS.FAILURE, severity: SEVERITY.HIGH, decision: undefined },
  budget_store_recovered: { activity: ACTIVITY.OTHER, status: STATUS.SUCCESS, severity: SEVERITY.INFORMATIONAL, decision: undefined },
  config_loaded: { activity: ACTIVITY.OTHER, status: STATUS.SUCCESS, severity: SEVERITY.INFORMATIONAL, decision: undefined },
  config_rejected: { activity: ACTIVITY.OTHER, status: STATUS.FAILURE, severity: SEVERITY.HIGH, decision: undefined },
  unknown_price: { activity: ACTIVITY.CREATE, status: STATUS.SUCCESS, severity: SEVERITY.MEDIUM, decision: 'estimate_cost' },
  usage_suspicious: { activity: ACTIVITY.CREATE, status: STATUS.SUCCESS, severity: SEVERITY.MEDIUM, decision: 'estimate_cost' },
} as const satisfies Record<string, { activity: number; status: number; severity: number; decision: (typeof DECISIONS)[number] | undefined }>;

export type AuditKind = keyof typeof AUDIT_KINDS;

/** Who we are: fixed for the process. */
export interface AuditSource {
  /** `OTEL_SERVICE_NAME`, or `unknown_service:node`. */
  serviceName: string;
  hostname?: string;
  productVersion: string;
}

/**
 * What the caller knows about the event. There is deliberately no field for prompt or completion
 * text, request headers or API keys; the builder copies only the fields named here, so extra keys
 * on the object passed in never reach the event.
 */
export interface AuditFacts {
  source: AuditSource;
  /** ms since epoch; defaults to now. */
  time?: number;
  durationMs?: number;
  /** W3C trace id (32 lowercase hex). */
  traceId?: string;
  /** Event id; defaults to a random UUID. */
  eventId?: string;
  operation?: string;
  provider?: string;
  providerHost?: string;
  providerPort?: number;
  /** The model that served (or would have served) the call. */
  model?: string;
  /** The model the app asked for, when a downgrade or fallback changed it. */
  requestedModel?: string;
  /** Already hashed with the configured salt. */
  userHash?: string;
  tenant?: string;
  feature?: string;
  usage?: { promptTokens?: number; completionTokens?: number; totalTokens?: number };
  estimated?: boolean;
  costUsd?: number;
  statusCode?: number | string;
  /** Short machine-readable reason, e.g. the error type. Scrubbed of anything key-like. */
  detail?: string;
  /** Overrides the default one-line message. Scrubbed of anything key-like. */
  message?: string;
  budget?: { name: string; spentUsd?: number; limitUsd?: number; window?: string; threshold?: number };
  breaker?: { provider?: string; model?: string; from?: 'closed' | 'half_open' | 'open' };
  fallbackFrom?: { provider: string; model?: string };
  maxOutputTokens?: number;
  /** For the budget store events: whether calls go through (`fail_open`) or are refused (`fail_closed`). */
  failureMode?: 'open' | 'closed';
}

const PRODUCT_NAME = 'llm-governor';
const INTERNAL_SERVICE = 'llm-governor';

/** Free text without credentials (see `redaction.ts`), on one line, bounded. */
export function scrub(text: string, max = 512): string {
  const out = redact(text).replace(/[\r\n]+/g, ' ');
  return out.length > max ? `${out.slice(0, max - 1)}…` : out;
}

function defaultMessage(kind: AuditKind, f: AuditFacts): string {
  const target = [f.provider, f.model].filter(Boolean).join(' ') || 'call';
  switch (kind) {
    case 'call_completed':
      return `${f.operation ?? 'call'} to ${target} completed`;
    case 'call_failed':
      return `${f.operation ?? 'call'} to ${target} failed`;
    case 'budget_threshold_crossed':
      return `budget ${f.budget?.name ?? '?'} crossed ${Math.round((f.budget?.threshold ?? 0) * 100)}%`;
    case 'budget_forecast_crossed':
      return `budget ${f.budget?.name ?? '?'} is projected past ${Math.round((f.budget?.threshold ?? 0) * 100)}% by the end of its window`;
    case 'budget_block':
      return `budget ${f.budget?.name ?? '?'} blocked a call to ${target}`;
    case 'token_cap_applied':
      return `budget ${f.budget?.name ?? '?'} capped output tokens of a call to ${target}`;
    case 'downgrade_applied':
      return `budget ${f.budget?.name ?? '?'} downgraded ${f.requestedModel ?? '?'} to ${f.model ?? '?'}`;
    case 'breaker_opened':
      return `circuit breaker for ${target} opened`;
    case 'breaker_half_opened':
      return `circuit breaker for ${target} half-opened`;
    case 'breaker_closed':
      return `circuit breaker for ${target} closed`;
    case 'rate_limit_rejected':
      return `rate limit rejected a call to ${target}`;
    case 'cache_hit':
      return `call to ${target} answered from the cache`;
    case 'cache_stale_served':
      return `every target of a call to ${target} was down; answered from the cache past its TTL`;
    case 'moderation_block':
      return `moderation blocked a call to ${target}`;
    case 'fallback':
      return `call fell back from ${[f.fallbackFrom?.provider, f.fallbackFrom?.model].filter(Boolean).join(' ') || '?'} to ${target}`;
    case 'budget_store_unavailable':
      return `budget store unavailable; calls ${f.failureMode === 'closed' ? 'refused' : 'not counted'}`;
    case 'budget_store_recovered':
      return 'budget store recovered';
    case 'config_loaded':
      return 'configuration loaded';
    case 'config_rejected':
      return 'configuration rejected as invalid';
    case 'unknown_price':
      return `no price for ${target}; costed as the provider's dearest model and flagged estimated`;
    case 'usage_suspicious':
      return `the usage ${target} reported cannot be true (${f.detail ?? 'suspicious'}); the call is priced at its worst case`;
  }
}

function apiOperation(kind: AuditKind, f: AuditFacts): string {
  if (kind === 'config_loaded' || kind === 'config_rejected') return 'config.load';
  if (kind.startsWith('breaker_')) return 'breaker.transition';
  if (kind.startsWith('budget_store_')) return 'budget_store.health';
  return f.operation ?? 'unknown';
}

function finite(n: number | undefined): number | undefined {
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

function count(n: number | undefined): number | undefined {
  const v = finite(n);
  return v !== undefined && v >= 0 ? Math.round(v) : undefined;
}

function text(s: string | undefined, max = 256): string | undefined {
  if (typeof s !== 'string' || s === '') return undefined;
  return scrub(s, max);
}

function prune<T extends object>(o: T): T {
  // A fresh object rather than `delete`: deleting turns an object into a slow dictionary, which
  // every later read (validation, serialisation) pays for.
  const out = {} as T;
  for (const k in o) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/**
 * Builds one OCSF API Activity event. Pure apart from the defaults for `time` and `metadata.uid`.
 * Copies only known fields of `facts`; free text is scrubbed of credential-looking strings.
 */
export function auditEvent(kind: AuditKind, facts: AuditFacts): OcsfApiActivity {
  const k = AUDIT_KINDS[kind];
  const f = facts;
  const provider = text(f.provider ?? f.breaker?.provider);
  const model = text(f.model ?? f.breaker?.model);
  const service = provider ?? INTERNAL_SERVICE;
  const statusCode = f.statusCode === undefined ? undefined : text(String(f.statusCode), 64);

  const user = f.userHash || f.tenant ? prune({ uid: text(f.userHash), account: f.tenant ? { uid: text(f.tenant)! } : undefined }) : undefined;

  const usage = f.usage
    ? prune({
        prompt_tokens: count(f.usage.promptTokens),
        completion_tokens: count(f.usage.completionTokens),
        total_tokens: count(
          f.usage.totalTokens ?? (f.usage.promptTokens !== undefined || f.usage.completionTokens !== undefined ? (f.usage.promptTokens ?? 0) + (f.usage.completionTokens ?? 0) : undefined),
        ),
      })
    : undefined;

  const breakerState: 'open' | 'half_open' | 'closed' | undefined =
    kind === 'breaker_opened' ? 'open' : kind === 'breaker_half_opened' ? 'half_open' : kind === 'breaker_closed' ? 'closed' : undefined;
  const decision = kind === 'budget_store_unavailable' ? (f.failureMode === 'closed' ? 'fail_closed' : 'fail_open') : k.decision;

  const event: OcsfApiActivity = {
    class_uid: API_ACTIVITY_CLASS_UID,
    class_name: 'API Activity',
    category_uid: APPLICATION_CATEGORY_UID,
    category_name: 'Application Activity',
    activity_id: k.activity,
    activity_name: ACTIVITY_NAME[k.activity],
    type_uid: API_ACTIVITY_CLASS_UID * 100 + k.activity,
    type_name: `API Activity: ${ACTIVITY_NAME[k.activity]}`,
    time: Math.max(0, Math.round(finite(f.time) ?? Date.now())),
    duration: finite(f.durationMs) !== undefined && f.durationMs! >= 0 ? Math.round(f.durationMs!) : undefined,
    severity_id: k.severity,
    severity: SEVERITY_NAME[k.severity],
    status_id: k.status,
    status: STATUS_NAME[k.status],
    status_code: statusCode,
    status_detail: text(f.detail),
    message: text(f.message, 512) ?? scrub(defaultMessage(kind, f)),
    api: { operation: text(apiOperation(kind, f))!, service: { name: service } },
    actor: prune({ app_name: text(f.source.serviceName) ?? 'unknown_service:node', app_uid: text(f.feature), user }),
    src_endpoint: prune({ svc_name: text(f.source.serviceName) ?? 'unknown_service:node', hostname: text(f.source.hostname) }),
    dst_endpoint: f.providerHost
      ? prune({ hostname: text(f.providerHost)!, port: Number.isInteger(f.providerPort) && f.providerPort! > 0 && f.providerPort! < 65536 ? f.providerPort : undefined })
      : undefined,
    ai_model: provider && model ? { ai_provider: provider, name: model } : undefined,
    message_context: usage && provider ? { service: { name: provider }, ...usage } : undefined,
    metadata: prune({
      product: { name: PRODUCT_NAME, version: text(f.source.productVersion, 64) ?? '0.0.0', vendor_name: PRODUCT_NAME },
      uid: text(f.eventId, 128) ?? randomUUID(),
      correlation_uid: typeof f.traceId === 'string' && /^[0-9a-f]{32}$/.test(f.traceId) ? f.traceId : undefined,
      version: OCSF_VERSION,
      profiles: ['ai_operation' as const],
    }),
    unmapped: prune({
      kind,
      cost_usd: finite(f.costUsd) !== undefined && f.costUsd! >= 0 ? f.costUsd : undefined,
      budget: text(f.budget?.name),
      budget_state: f.budget
        ? prune({
            spent_usd: finite(f.budget.spentUsd) !== undefined && f.budget.spentUsd! >= 0 ? f.budget.spentUsd : undefined,
            limit_usd: finite(f.budget.limitUsd) !== undefined && f.budget.limitUsd! > 0 ? f.budget.limitUsd : undefined,
            window: text(f.budget.window, 64),
            threshold: finite(f.budget.threshold) !== undefined && f.budget.threshold! > 0 ? f.budget.threshold : undefined,
          })
        : undefined,
      breaker: breakerState ? prune({ provider, model, state: breakerState, from: f.breaker?.from }) : undefined,
      decision,
      estimated: typeof f.estimated === 'boolean' ? f.estimated : undefined,
      requested_model: text(f.requestedModel),
      fallback_from: f.fallbackFrom?.provider ? prune({ provider: text(f.fallbackFrom.provider)!, model: text(f.fallbackFrom.model) }) : undefined,
      max_output_tokens: count(f.maxOutputTokens),
    }),
  };
  if (event.unmapped.budget_state && Object.keys(event.unmapped.budget_state).length === 0) event.unmapped = prune({ ...event.unmapped, budget_state: undefined });
  if (event.message_context && Object.keys(event.message_context).length === 1) event.message_context = undefined;
  return prune(event);
}
