// The audit trail through the preload: unmodified apps, real scenarios, every event kind. Each
// run writes LLM_GOVERNOR_AUDIT_FILE and exports OTLP logs to a test receiver; every line must be
// a valid OCSF 6003 event, every call must have exactly one call event, and the same events must
// arrive as OTLP log records named `llm_governor.audit`.
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_KINDS, type AuditKind, type OcsfApiActivity } from '../../src/audit/ocsf';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import type { FaultRule } from '../../src/simulator/types';
import { runObserved, sumOf, type ObservedRun } from '../helpers/observed-run';
import { startRedis } from '../helpers/redis-server';
import { freePort, REPO, runApp, telemetryEnv } from '../helpers/run-app';
import { parsePrometheusText } from '../../src/util/prometheus-text';
import { zoneAtLocalHour } from '../helpers/zones';
import { configFile, count, expectNothingSecret, expectSameAsOtlp, readEvents, syslogEvents, tempDir } from './audit-preload-helpers';

const RESILIENCE_APP = resolve(REPO, 'test/fixtures/resilience-app.cjs');
const BUDGET_APP = resolve(REPO, 'test/fixtures/budget-app.cjs');

let sim: Simulator;
const seenKinds = new Set<AuditKind>();
/** A syslog collector over TCP: RFC 6587 octet-counted frames, each an RFC 5424 message. */
let syslog: { server: Server; port: number; chunks: Buffer[] };

beforeAll(async () => {
  sim = await startSimulator({ seed: 55, chunkDelayMs: 1 });
  const chunks: Buffer[] = [];
  const server = createServer((socket) => socket.on('data', (d: Buffer) => chunks.push(d)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  syslog = { server, port: (server.address() as { port: number }).port, chunks };
});
afterAll(async () => {
  await sim?.close();
  await new Promise<void>((r) => syslog?.server.close(() => r()));
});

interface AuditRun extends ObservedRun {
  events: OcsfApiActivity[];
  kinds: AuditKind[];
  calls: OcsfApiActivity[];
}

async function audited(app: string, env: Record<string, string>, faults: FaultRule[] = []): Promise<AuditRun> {
  const dir = tempDir();
  const file = join(dir, 'audit.jsonl');
  sim.reset();
  sim.setFaults(faults);
  syslog.chunks.length = 0;
  try {
    const r = await runObserved({ script: app, env: { SIM_URL: sim.url, LLM_GOVERNOR_AUDIT_FILE: file, LLM_GOVERNOR_AUDIT_SYSLOG: `tcp://127.0.0.1:${syslog.port}`, ...env }, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const events = readEvents(file);
    const kinds = events.map((e) => e.unmapped.kind as AuditKind);
    for (const k of kinds) seenKinds.add(k);
    expectNothingSecret(r, file);
    expectSameAsOtlp(events, r);
    // ... and over syslog, each once.
    expect(
      syslogEvents(syslog.chunks)
        .map((e) => e.metadata.uid)
        .sort(),
    ).toEqual(events.map((e) => e.metadata.uid).sort());
    return { ...r, events, kinds, calls: events.filter((e) => e.unmapped.kind === 'call_completed' || e.unmapped.kind === 'call_failed') };
  } finally {
    sim.setFaults([]);
  }
}

describe('audit trail through the preload', () => {
  it('one call_completed per call, with usage, cost, actor, endpoints and the trace id', async () => {
    const r = await audited(BUDGET_APP, { CALLS: '3', SEQUENTIAL: '1', USER_FIELD: 'alice@example.com', TENANTS: 'acme', LLM_GOVERNOR_USER_HASH_SALT: 'pepper' });
    expect(r.kinds.filter((k) => k.startsWith('call_'))).toEqual(['call_completed', 'call_completed', 'call_completed']);
    expect(r.kinds[0]).toBe('config_loaded');
    const [e] = r.calls;
    expect(e).toMatchObject({
      class_uid: 6003,
      category_uid: 6,
      activity_id: 1,
      type_uid: 600301,
      status_id: 1,
      status_code: '200',
      api: { operation: 'chat', service: { name: 'openai' } },
      actor: { app_name: 'test-app', user: { account: { uid: 'acme' } } },
      src_endpoint: { svc_name: 'test-app' },
      dst_endpoint: { hostname: '127.0.0.1' },
      ai_model: { ai_provider: 'openai' },
      metadata: { product: { name: 'llm-governor' }, version: '1.8.0', profiles: ['ai_operation'] },
      unmapped: { kind: 'call_completed', decision: 'allow', estimated: false },
    });
    // The user is a salted hash, never the address.
    expect(e.actor.user!.uid).toMatch(/^u_[0-9a-f]{16}$/);
    expect(JSON.stringify(r.events)).not.toContain('alice');
    expect(e.message_context!.prompt_tokens).toBeGreaterThan(0);
    expect(e.message_context!.total_tokens).toBe(e.message_context!.prompt_tokens! + e.message_context!.completion_tokens!);
    expect(e.unmapped.cost_usd).toBeGreaterThan(0);
    expect(e.duration).toBeGreaterThan(0);
    // The trace id is the call's span's.
    const traceIds = new Set(r.spans.map((s) => s.traceId));
    for (const c of r.calls) expect(traceIds.has(c.metadata.correlation_uid!)).toBe(true);
    expect(sumOf(r.samples, 'llm_governor_audit_events_total', { 'llm_governor_audit_kind': 'call_completed' })).toBe(3);
    expect(sumOf(r.samples, 'llm_governor_audit_dropped_total')).toBe(0);
  });

  it('budgets: threshold crossed, block (and the failed call), an unknown price', async () => {
    const dir = tempDir();
    const r = await audited(BUDGET_APP, {
      CALLS: '5',
      SEQUENTIAL: '1',
      MAX_TOKENS: '50',
      // Mid-day in its zone: the projection is about twice the spend, past forecast_alert at the first call.
      LLM_GOVERNOR_CONFIG: configFile(dir, `budgets:\n  - name: daily\n    limit_usd: 0.00005\n    thresholds: [0.1]\n    forecast_alert: 0.2\n    timezone: ${zoneAtLocalHour(12)}\n`),
    });
    const s = r.out;
    expect(s.rejected).toBeGreaterThan(0);
    expect(count(r.kinds, 'budget_threshold_crossed')).toBe(1);
    expect(count(r.kinds, 'budget_forecast_crossed')).toBe(1);
    expect(count(r.kinds, 'budget_block')).toBe(s.rejected);
    expect(count(r.kinds, 'call_failed')).toBe(s.rejected);
    expect(r.calls).toHaveLength(5);
    const block = r.events.find((e) => e.unmapped.kind === 'budget_block')!;
    expect(block).toMatchObject({ status_id: 2, status_code: 'budget_exceeded', unmapped: { decision: 'block', budget: 'daily', budget_state: { limit_usd: 0.00005 } } });
    const crossed = r.events.find((e) => e.unmapped.kind === 'budget_threshold_crossed')!;
    expect(crossed.unmapped).toMatchObject({ budget: 'daily', decision: 'alert', budget_state: { threshold: 0.1, limit_usd: 0.00005 } });
    const failed = r.events.find((e) => e.unmapped.kind === 'call_failed')!;
    expect(failed).toMatchObject({ status_id: 2, status_code: 'budget_exceeded', status_detail: 'budget_exceeded' });

    // A provider reporting usage that cannot be true: not believed, priced at the worst case.
    const { createServer: createHttp } = await import('node:http');
    const absurd = createHttp((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'x',
            object: 'chat.completion',
            created: 1,
            model: 'gpt-4o-mini',
            choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
            usage: { prompt_tokens: -3, completion_tokens: 1e15, total_tokens: 1 },
          }),
        );
      });
    });
    await new Promise<void>((r) => absurd.listen(0, '127.0.0.1', r));
    try {
      const suspicious = await audited(BUDGET_APP, { CALLS: '1', SIM_URL: `http://127.0.0.1:${(absurd.address() as { port: number }).port}` });
      expect(suspicious.events.find((e) => e.unmapped.kind === 'usage_suspicious')).toMatchObject({ status_detail: 'negative', unmapped: { estimated: true } });
    } finally {
      await new Promise((r) => absurd.close(r));
    }

    const unknown = await audited(BUDGET_APP, { CALLS: '2', SEQUENTIAL: '1', MODEL: 'gpt-unpriced-9' });
    expect(count(unknown.kinds, 'unknown_price')).toBe(1); // once per model, not per call
    expect(unknown.events.find((e) => e.unmapped.kind === 'unknown_price')).toMatchObject({ ai_model: { ai_provider: 'openai', name: 'gpt-unpriced-9' }, unmapped: { estimated: true } });
    for (const c of unknown.calls) expect(c.unmapped.estimated).toBe(true);
  });

  it('budget actions: cap_tokens and downgrade', async () => {
    const dir = tempDir();
    const capped = await audited(BUDGET_APP, {
      CALLS: '1',
      MAX_TOKENS: '100000',
      LLM_GOVERNOR_CONFIG: configFile(dir, 'budgets:\n  - name: capped\n    limit_usd: 0.002\n    action: cap_tokens\n'),
    });
    const cap = capped.events.find((e) => e.unmapped.kind === 'token_cap_applied')!;
    expect(cap.unmapped).toMatchObject({ budget: 'capped', decision: 'cap_tokens' });
    expect(cap.unmapped.max_output_tokens).toBeLessThan(100000);
    expect(capped.kinds.filter((k) => k.startsWith('call_'))).toEqual(['call_completed']);

    const down = await audited(BUDGET_APP, {
      CALLS: '1',
      MODEL: 'gpt-4o',
      MAX_TOKENS: '100',
      LLM_GOVERNOR_CONFIG: configFile(tempDir(), 'budgets:\n  - name: gpt4o\n    limit_usd: 0.0002\n    match: { model: "gpt-4o" }\n    action: { downgrade: gpt-4o-mini }\n'),
    });
    const d = down.events.find((e) => e.unmapped.kind === 'downgrade_applied')!;
    expect(d).toMatchObject({ ai_model: { name: 'gpt-4o-mini' }, unmapped: { budget: 'gpt4o', decision: 'downgrade', requested_model: 'gpt-4o' } });
    expect(down.calls[0]).toMatchObject({ unmapped: { kind: 'call_completed', requested_model: 'gpt-4o' } });
    expect(down.calls[0].ai_model!.name).toMatch(/^gpt-4o-mini/);
  });

  it('breaker: opened, half-opened, closed; a refusal is a failed call', async () => {
    const r = await audited(
      RESILIENCE_APP,
      { CALLS: '10', CONCURRENCY: '1', CLIENT_MAX_RETRIES: '0', PAUSE_AFTER: '5', PAUSE_MS: '1200', LLM_GOVERNOR_BREAKER_FAILURES: '3', LLM_GOVERNOR_BREAKER_RESET_SECONDS: '1' },
      [{ kind: '500', count: 3 }],
    );
    const transitions = r.kinds.filter((k) => k.startsWith('breaker_'));
    expect(transitions).toEqual(['breaker_opened', 'breaker_half_opened', 'breaker_closed']);
    const opened = r.events.find((e) => e.unmapped.kind === 'breaker_opened')!;
    expect(opened).toMatchObject({
      activity_id: 99,
      severity_id: 4,
      api: { operation: 'breaker.transition', service: { name: 'openai' } },
      unmapped: { breaker: { state: 'open', from: 'closed', provider: 'openai', model: 'gpt-4o-mini' } },
    });
    expect(r.calls).toHaveLength(10);
    const refused = r.calls.filter((c) => c.status_code === 'circuit_open');
    expect(refused.length).toBe(r.out.seen.filter((s: any) => s.error === 'CircuitOpenError').length);
    expect(refused.length).toBeGreaterThan(0);
    expect(r.calls.filter((c) => c.status_code === '500')).toHaveLength(3);
  });

  it('fallback, rate-limit rejection, cache hit, moderation block, and a rejected config value', async () => {
    const dir = tempDir();
    const fb = await audited(
      RESILIENCE_APP,
      {
        CALLS: '2',
        MODEL: 'gpt-4o',
        CLIENT_MAX_RETRIES: '0',
        OPENAI_API_KEY: 'sk-test-backup-0123456789',
        LLM_GOVERNOR_CONFIG: configFile(
          dir,
          `fallbacks:\n  - primary: { provider: openai, model: gpt-4o }\n    backups:\n      - { provider: openai, model: gpt-4o-mini, base_url: "${sim.url}/v1" }\n`,
        ),
      },
      [{ kind: '500', match: { model: 'gpt-4o' } }],
    );
    expect(count(fb.kinds, 'fallback'), JSON.stringify([fb.out, fb.kinds, fb.stderr])).toBe(2);
    expect(fb.events.find((e) => e.unmapped.kind === 'fallback')).toMatchObject({
      ai_model: { ai_provider: 'openai', name: 'gpt-4o-mini' },
      unmapped: { decision: 'fallback', fallback_from: { provider: 'openai', model: 'gpt-4o' } },
    });
    expect(fb.calls.map((c) => c.unmapped.kind)).toEqual(['call_completed', 'call_completed']);
    expect(fb.calls[0].ai_model!.name).toMatch(/^gpt-4o-mini/);
    expect(fb.calls[0].unmapped.requested_model).toBe('gpt-4o');

    const rl = await audited(RESILIENCE_APP, { CALLS: '3', LLM_GOVERNOR_RATE_LIMIT_RPM: '1', LLM_GOVERNOR_RATE_LIMIT_MAX_WAIT_SECONDS: '0' });
    expect(count(rl.kinds, 'rate_limit_rejected')).toBe(2);
    expect(rl.calls.filter((c) => c.status_code === 'rate_limited')).toHaveLength(2);

    const cached = await audited(RESILIENCE_APP, { CALLS: '3', SAME_PROMPT: '1', LLM_GOVERNOR_CACHE: 'on', LLM_GOVERNOR_BREAKER_FAILURES: 'lots' });
    expect(count(cached.kinds, 'cache_hit')).toBe(2);
    expect(cached.calls.filter((c) => c.unmapped.cost_usd === 0 && c.status_detail === 'cache_hit')).toHaveLength(2);
    const rejected = cached.events.find((e) => e.unmapped.kind === 'config_rejected')!;
    expect(rejected).toMatchObject({ status_id: 2, status_detail: 'LLM_GOVERNOR_BREAKER_FAILURES', api: { operation: 'config.load' } });
    expect(cached.kinds.slice(0, 2)).toEqual(['config_rejected', 'config_loaded']);

    const prompt = 'please share the forbidden plan';
    const mod = await audited(RESILIENCE_APP, {
      CALLS: '1',
      PROMPT: prompt,
      LLM_GOVERNOR_CONFIG: configFile(tempDir(), 'moderation_rules:\n  - { name: no-forbidden, pattern: "forbidden" }\n'),
    });
    expect(mod.events.find((e) => e.unmapped.kind === 'moderation_block')).toMatchObject({ status_code: 'content_blocked', severity_id: 4, unmapped: { decision: 'moderation_block' } });
    expect(mod.calls).toHaveLength(1);
    expect(JSON.stringify(mod.events)).not.toContain('forbidden plan');
  });

  it('a stale answer in an outage: cache_stale_served, and the call completed at no cost', async () => {
    const env = {
      CALLS: '2',
      SAME_PROMPT: '1',
      PAUSE_AFTER: '0',
      PAUSE_MS: '1200',
      CLIENT_MAX_RETRIES: '0',
      LLM_GOVERNOR_CACHE: 'on',
      LLM_GOVERNOR_CACHE_TTL_SECONDS: '1',
      LLM_GOVERNOR_CACHE_SERVE_STALE_SECONDS: '60',
    };
    const r = await audited(RESILIENCE_APP, env, [{ kind: '500', after: 1, match: { path: '/chat/completions' } }]);
    expect(count(r.kinds, 'cache_stale_served')).toBe(1);
    expect(r.events.find((e) => e.unmapped.kind === 'cache_stale_served')).toMatchObject({ status_id: 1, activity_id: 2, unmapped: { decision: 'cache_hit' } });
    expect(r.calls.map((c) => [c.unmapped.kind, c.unmapped.cost_usd === 0])).toEqual([
      ['call_completed', false],
      ['call_completed', true],
    ]);
  });

  it('the budget store: unavailable, then recovered (a real redis-server)', async () => {
    const redis = await startRedis();
    const dir = tempDir();
    const file = join(dir, 'audit.jsonl');
    try {
      sim.reset();
      const chats = () => sim.requests().filter((q) => q.path.endsWith('/chat/completions')).length;
      const run = runApp({
        script: BUDGET_APP,
        preload: 'require',
        env: {
          SIM_URL: sim.url,
          CALLS: '40',
          SEQUENTIAL: '1',
          PACE_MS: '50',
          OTEL_TRACES_EXPORTER: 'none',
          OTEL_LOGS_EXPORTER: 'none',
          OTEL_METRICS_EXPORTER: 'none',
          LLM_GOVERNOR_REDIS_URL: redis.url,
          LLM_GOVERNOR_AUDIT_FILE: file,
          LLM_GOVERNOR_CONFIG: configFile(dir, 'budgets:\n  - name: shared\n    limit_usd: 50\n'),
        },
        timeoutMs: 60_000,
      });
      const waitFor = async (n: number) => {
        for (let i = 0; i < 400 && chats() < n; i++) await new Promise((r) => setTimeout(r, 25));
      };
      await waitFor(5);
      redis.kill();
      await waitFor(15);
      await redis.restart();
      const r = await run;
      expect(r.code, r.stderr).toBe(0);
      const events = readEvents(file);
      const kinds = events.map((e) => e.unmapped.kind as AuditKind);
      for (const k of kinds) seenKinds.add(k);
      expect(count(kinds, 'budget_store_unavailable')).toBe(1);
      expect(count(kinds, 'budget_store_recovered')).toBe(1);
      expect(kinds.indexOf('budget_store_unavailable')).toBeLessThan(kinds.indexOf('budget_store_recovered'));
      expect(events.find((e) => e.unmapped.kind === 'budget_store_unavailable')).toMatchObject({ status_id: 2, unmapped: { decision: 'fail_open' }, api: { operation: 'budget_store.health' } });
      expect(JSON.stringify(events)).not.toContain(redis.url);
      expect(count(kinds, 'call_completed')).toBe(40);
    } finally {
      await redis.stop();
    }
  }, 60_000);

  it('an audit file that cannot be written is retried and counted, never in the way; once it can, nothing is lost', async () => {
    const dir = join(tempDir(), 'not-yet');
    const file = join(dir, 'audit.jsonl');
    const port = await freePort();
    let samples: ReturnType<typeof parsePrometheusText> = [];
    const r = await runApp({
      script: BUDGET_APP,
      preload: 'require',
      env: {
        SIM_URL: sim.url,
        CALLS: '5',
        SEQUENTIAL: '1',
        WAIT_FOR_SCRAPE: '1',
        LLM_GOVERNOR_AUDIT_FILE: file,
        ...telemetryEnv('http://127.0.0.1:9', port),
        OTEL_TRACES_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
      },
      onReady: async (child) => {
        await new Promise((res) => setTimeout(res, 300));
        samples = parsePrometheusText(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
        mkdirSync(dir); // the disk is back
        child.stdin!.end();
      },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{'))!).ok).toBe(5);
    expect(sumOf(samples, 'llm_governor_audit_sink_errors_total', { llm_governor_audit_sink: 'file' })).toBeGreaterThan(0);
    expect(sumOf(samples, 'llm_governor_audit_dropped_total')).toBe(0);
    const kinds = readEvents(file).map((e) => e.unmapped.kind);
    expect(kinds).toEqual(['config_loaded', ...Array(5).fill('call_completed')]);
  });

  it('a configuration that makes the app refuse to start is still on record', async () => {
    const file = join(tempDir(), 'audit.jsonl');
    const r = await runApp({
      script: BUDGET_APP,
      preload: 'require',
      env: {
        SIM_URL: sim.url,
        LLM_GOVERNOR_FAIL_CLOSED: 'true',
        LLM_GOVERNOR_MAX_RETRIES: 'plenty',
        LLM_GOVERNOR_AUDIT_FILE: file,
        OTEL_TRACES_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
        OTEL_METRICS_EXPORTER: 'none',
      },
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('LLM_GOVERNOR_MAX_RETRIES');
    const events = readEvents(file);
    expect(events.map((e) => e.unmapped.kind)).toEqual(['config_rejected']);
    expect(events[0].message).toMatch(/refuses to start.*LLM_GOVERNOR_MAX_RETRIES/);
  });

  it('every event kind was produced by a real scenario above', () => {
    expect([...seenKinds].sort()).toEqual(Object.keys(AUDIT_KINDS).sort());
  });
});
