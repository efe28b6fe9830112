import { describe, expect, it } from 'vitest';
import { AUDIT_KINDS, auditEvent, ocsfApiActivitySchema, scrub, type AuditFacts, type AuditKind } from '../../src/audit/ocsf';
import { ACTIVITY, SEVERITY, STATUS } from '../../src/audit/ocsf-schema';

const source = { serviceName: 'checkout-api', hostname: 'web-1', productVersion: '0.1.0' };
const TRACE = '0af7651916cd43dd8448eb211c80319c';
const API_KEY = 'sk-proj-AbCdEfGhIjKlMnOpQrStUvWx0123456789';
const AZURE_KEY = '0123456789abcdef0123456789abcdef';
const PROMPT = 'Tell me the secret recipe for the company bread';

const call: AuditFacts = {
  source,
  time: 1_760_000_000_000,
  durationMs: 812.5,
  traceId: TRACE,
  operation: 'chat',
  provider: 'openai',
  providerHost: 'api.openai.com',
  providerPort: 443,
  model: 'gpt-4o-mini',
  userHash: 'u_3f1c2a9b',
  tenant: 'acme',
  feature: 'summaries',
  usage: { promptTokens: 120, completionTokens: 30 },
  estimated: false,
  costUsd: 0.0000365,
};

/** One realistic fact set per kind. */
const FACTS: Record<AuditKind, AuditFacts> = {
  call_completed: call,
  call_failed: { ...call, usage: undefined, costUsd: undefined, statusCode: 503, detail: 'InternalServerError' },
  budget_threshold_crossed: { ...call, budget: { name: 'daily', spentUsd: 8.1, limitUsd: 10, window: 'day', threshold: 0.8 } },
  budget_forecast_crossed: { ...call, budget: { name: 'daily', spentUsd: 2.5, limitUsd: 10, window: 'day', threshold: 0.9 } },
  budget_block: { ...call, usage: undefined, statusCode: 'budget_exceeded', budget: { name: 'daily', spentUsd: 10, limitUsd: 10, window: 'day' }, estimated: true },
  token_cap_applied: { ...call, budget: { name: 'daily', spentUsd: 9.9, limitUsd: 10 }, maxOutputTokens: 64 },
  downgrade_applied: { ...call, requestedModel: 'gpt-4o', model: 'gpt-4o-mini', budget: { name: 'daily' } },
  breaker_opened: { source, provider: 'openai', model: 'gpt-4o', breaker: { from: 'closed' } },
  breaker_half_opened: { source, provider: 'openai', model: 'gpt-4o', breaker: { from: 'open' } },
  breaker_closed: { source, provider: 'openai', model: 'gpt-4o', breaker: { from: 'half_open' } },
  rate_limit_rejected: { ...call, usage: undefined, statusCode: 429, detail: 'rate_limited' },
  cache_hit: { ...call, costUsd: 0 },
  cache_stale_served: { ...call, costUsd: 0, statusCode: 200 },
  moderation_block: { ...call, usage: undefined, statusCode: 'moderation_flagged', detail: 'hate' },
  fallback: { ...call, provider: 'azure.ai.openai', providerHost: 'my.openai.azure.com', fallbackFrom: { provider: 'openai', model: 'gpt-4o-mini' } },
  budget_store_unavailable: { source, detail: 'ECONNREFUSED', failureMode: 'open' },
  budget_store_recovered: { source },
  config_loaded: { source, message: 'configuration loaded from llm-governor.yaml (3 budgets)' },
  config_rejected: { source, detail: 'budgets.0.limit_usd: expected an amount in USD above 0' },
  unknown_price: { ...call, model: 'gpt-9-preview', costUsd: undefined, estimated: true },
  usage_suspicious: { ...call, detail: 'negative', estimated: true },
};

describe('audit events: OCSF 1.8 API Activity', () => {
  it.each(Object.keys(AUDIT_KINDS) as AuditKind[])('%s validates against the schema', (kind) => {
    const e = auditEvent(kind, FACTS[kind]);
    const parsed = ocsfApiActivitySchema.safeParse(e);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(e.class_uid).toBe(6003);
    expect(e.category_uid).toBe(6);
    expect(e.type_uid).toBe(600300 + e.activity_id);
    expect(e.status_id).toBe(AUDIT_KINDS[kind].status);
    expect([1, 2]).toContain(e.status_id);
    expect(e.metadata.version).toBe('1.8.0');
    expect(e.metadata.profiles).toEqual(['ai_operation']);
    expect(e.unmapped.kind).toBe(kind);
    // round trip through JSON: the file and log sinks carry exactly this
    expect(ocsfApiActivitySchema.safeParse(JSON.parse(JSON.stringify(e))).success).toBe(true);
  });

  it('maps a completed call field by field', () => {
    const e = auditEvent('call_completed', call);
    expect(e).toMatchObject({
      activity_id: 1,
      type_uid: 600301,
      time: 1_760_000_000_000,
      duration: 813,
      severity_id: 1,
      status_id: 1,
      api: { operation: 'chat', service: { name: 'openai' } },
      actor: { app_name: 'checkout-api', app_uid: 'summaries', user: { uid: 'u_3f1c2a9b', account: { uid: 'acme' } } },
      src_endpoint: { svc_name: 'checkout-api', hostname: 'web-1' },
      dst_endpoint: { hostname: 'api.openai.com', port: 443 },
      ai_model: { ai_provider: 'openai', name: 'gpt-4o-mini' },
      message_context: { service: { name: 'openai' }, prompt_tokens: 120, completion_tokens: 30, total_tokens: 150 },
      metadata: { product: { name: 'llm-governor', version: '0.1.0', vendor_name: 'llm-governor' }, correlation_uid: TRACE },
      unmapped: { cost_usd: 0.0000365, decision: 'allow', estimated: false },
    });
    expect(e.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives each kind its decision, breaker state and budget', () => {
    expect(auditEvent('budget_block', FACTS.budget_block)).toMatchObject({
      status_id: 2,
      status_code: 'budget_exceeded',
      unmapped: { decision: 'block', budget: 'daily', budget_state: { spent_usd: 10, limit_usd: 10, window: 'day' }, estimated: true },
    });
    expect(auditEvent('breaker_opened', FACTS.breaker_opened).unmapped.breaker).toEqual({ provider: 'openai', model: 'gpt-4o', state: 'open', from: 'closed' });
    expect(auditEvent('breaker_half_opened', FACTS.breaker_half_opened).unmapped.breaker?.state).toBe('half_open');
    expect(auditEvent('breaker_closed', FACTS.breaker_closed).unmapped.breaker?.state).toBe('closed');
    expect(auditEvent('budget_store_unavailable', FACTS.budget_store_unavailable).unmapped.decision).toBe('fail_open');
    expect(auditEvent('budget_store_unavailable', { ...FACTS.budget_store_unavailable, failureMode: 'closed' }).unmapped.decision).toBe('fail_closed');
    expect(auditEvent('downgrade_applied', FACTS.downgrade_applied)).toMatchObject({ ai_model: { name: 'gpt-4o-mini' }, unmapped: { requested_model: 'gpt-4o', decision: 'downgrade' } });
    expect(auditEvent('fallback', FACTS.fallback).unmapped.fallback_from).toEqual({ provider: 'openai', model: 'gpt-4o-mini' });
    expect(auditEvent('cache_hit', FACTS.cache_hit).activity_id).toBe(2);
    expect(auditEvent('config_loaded', FACTS.config_loaded)).toMatchObject({ activity_id: 99, type_uid: 600399, api: { operation: 'config.load', service: { name: 'llm-governor' } } });
    // an internal event still has an actor OCSF accepts
    expect(auditEvent('budget_store_recovered', { source }).actor).toEqual({ app_name: 'checkout-api' });
  });

  it('a tenant without a user still makes a valid OCSF user (account)', () => {
    const e = auditEvent('call_completed', { ...call, userHash: undefined });
    expect(e.actor.user).toEqual({ account: { uid: 'acme' } });
    expect(ocsfApiActivitySchema.safeParse(e).success).toBe(true);
  });

  describe('never carries a secret or prompt', () => {
    const poisoned = {
      ...call,
      // keys the facts type does not have: the builder must not copy them
      prompt: PROMPT,
      messages: [{ role: 'user', content: PROMPT }],
      apiKey: API_KEY,
      headers: { Authorization: `Bearer ${API_KEY}`, 'api-key': AZURE_KEY },
      // free text that does carry secrets
      detail: `401 Incorrect API key provided: ${API_KEY}`,
      message: `request failed with Authorization: Bearer ${API_KEY} and api-key: ${AZURE_KEY}`,
    } as AuditFacts;

    it.each(Object.keys(AUDIT_KINDS) as AuditKind[])('%s', (kind) => {
      const e = auditEvent(kind, { ...FACTS[kind], ...poisoned });
      const json = JSON.stringify(e);
      expect(ocsfApiActivitySchema.safeParse(e).success).toBe(true);
      expect(json).not.toContain(API_KEY);
      expect(json).not.toContain(API_KEY.slice(0, 12));
      expect(json).not.toContain(AZURE_KEY);
      expect(json).not.toContain(PROMPT);
      expect(json).not.toMatch(/Bearer\s+[^[\s]/);
      expect(json).not.toMatch(/"(prompt|messages|apiKey|api_key|headers|authorization|content)"/i);
    });

    it('scrub redacts keys, bearer tokens and key headers, and bounds the text', () => {
      expect(scrub(`key ${API_KEY}`)).toBe('key [REDACTED]');
      expect(scrub('xai-abcdefghijkl0123 failed')).toBe('[REDACTED] failed');
      expect(scrub('Authorization: Bearer abc.def.ghi')).not.toContain('abc.def');
      expect(scrub(`api-key: ${AZURE_KEY}`)).toBe('api-key: [REDACTED]');
      expect(scrub(`{"api_key":"${AZURE_KEY}"}`)).not.toContain(AZURE_KEY);
      expect(scrub('a\nb')).toBe('a b');
      expect(scrub('x'.repeat(2000)).length).toBe(512);
      // a trace id is not a secret
      expect(scrub(`trace ${TRACE}`)).toBe(`trace ${TRACE}`);
    });
  });

  describe('the schema rejects bad events', () => {
    const good = () => JSON.parse(JSON.stringify(auditEvent('call_completed', call)));
    const cases: [string, (e: any) => void][] = [
      ['wrong class_uid', (e) => (e.class_uid = 6001)],
      ['wrong category_uid', (e) => (e.category_uid = 3)],
      ['type_uid not class*100+activity', (e) => (e.type_uid = 600302)],
      ['unknown activity_id', (e) => ((e.activity_id = 7), (e.type_uid = 600307))],
      ['status_id out of enum', (e) => (e.status_id = 3)],
      ['severity_id out of enum', (e) => (e.severity_id = 9)],
      ['time as ISO string', (e) => (e.time = '2025-01-01T00:00:00Z')],
      ['negative duration', (e) => (e.duration = -1)],
      ['missing message', (e) => delete e.message],
      ['missing api.operation', (e) => delete e.api.operation],
      ['missing actor', (e) => delete e.actor],
      ['empty user', (e) => (e.actor.user = {})],
      ['missing src_endpoint', (e) => delete e.src_endpoint],
      ['ai_model without provider', (e) => delete e.ai_model.ai_provider],
      ['fractional token count', (e) => (e.message_context.prompt_tokens = 1.5)],
      ['negative cost', (e) => (e.unmapped.cost_usd = -0.01)],
      ['unknown decision', (e) => (e.unmapped.decision = 'maybe')],
      ['bad breaker state', (e) => (e.unmapped.breaker = { state: 'ajar' })],
      ['OCSF version 1.1.0', (e) => (e.metadata.version = '1.1.0')],
      ['missing metadata.uid', (e) => delete e.metadata.uid],
      ['correlation_uid not a trace id', (e) => (e.metadata.correlation_uid = 'abc')],
      ['prompt at the top level', (e) => (e.prompt = PROMPT)],
      ['headers in unmapped', (e) => (e.unmapped.headers = { authorization: 'Bearer x' })],
      ['api key on the user', (e) => (e.actor.user.api_key = API_KEY)],
      ['raw http_request', (e) => (e.http_request = { url: { path: '/v1/chat/completions' } })],
      ['message over 1024 chars', (e) => (e.message = 'x'.repeat(1025))],
      ['dst port out of range', (e) => (e.dst_endpoint.port = 70000)],
    ];

    it('accepts the unmodified event', () => {
      expect(ocsfApiActivitySchema.safeParse(good()).success).toBe(true);
    });

    it('accepts every enumerated activity, severity and status id, and only those', () => {
      const ok = (mutate: (e: any) => void) => {
        const e = good();
        mutate(e);
        return ocsfApiActivitySchema.safeParse(e).success;
      };
      for (const id of Object.values(ACTIVITY))
        expect(
          ok((e) => ((e.activity_id = id), (e.type_uid = 600300 + id))),
          `activity ${id}`,
        ).toBe(true);
      for (const id of Object.values(SEVERITY))
        expect(
          ok((e) => (e.severity_id = id)),
          `severity ${id}`,
        ).toBe(true);
      for (const id of Object.values(STATUS))
        expect(
          ok((e) => (e.status_id = id)),
          `status ${id}`,
        ).toBe(true);
      for (const id of [-1, 5, 98, 100, 1.5])
        expect(
          ok((e) => ((e.activity_id = id), (e.type_uid = 600300 + id))),
          `activity ${id}`,
        ).toBe(false);
      for (const id of [-1, 7, 98, 100])
        expect(
          ok((e) => (e.severity_id = id)),
          `severity ${id}`,
        ).toBe(false);
      for (const id of [-1, 3, 98, 100])
        expect(
          ok((e) => (e.status_id = id)),
          `status ${id}`,
        ).toBe(false);
    });

    it.each(cases)('%s', (_name, mutate) => {
      const e = good();
      mutate(e);
      expect(ocsfApiActivitySchema.safeParse(e).success).toBe(false);
    });
  });

  it('drops nonsense figures rather than emitting invalid events', () => {
    const e = auditEvent('call_completed', {
      ...call,
      time: Number.NaN,
      durationMs: -5,
      costUsd: Number.POSITIVE_INFINITY,
      usage: { promptTokens: -1, completionTokens: 2.6 },
      providerPort: 0,
      traceId: 'not-a-trace',
    });
    expect(ocsfApiActivitySchema.safeParse(e).success).toBe(true);
    expect(e.duration).toBeUndefined();
    expect(e.unmapped.cost_usd).toBeUndefined();
    expect(e.message_context?.prompt_tokens).toBeUndefined();
    expect(e.message_context?.completion_tokens).toBe(3);
    expect(e.dst_endpoint?.port).toBeUndefined();
    expect(e.metadata.correlation_uid).toBeUndefined();
    expect(Math.abs(e.time - Date.now())).toBeLessThan(5_000);
  });
});
