// Fallback for the wire entry, from outside: an ordinary AI SDK app (test/fixtures/ai-sdk-app.mjs,
// `@ai-sdk/openai`) whose provider fails, a fallback chain in a config file, and the backup on a
// second simulator, known only by its provider's standard environment. The app gets the backup's
// answer as a normal AI SDK result (generateText and streamText); the spans, metrics and audit
// trail say so as the openai SDK path's fallback tests (test/guards/resilience-preload.test.ts,
// test/audit/audit-preload.test.ts) do; the backup received its own model and credentials and
// none of the primary's.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type RecordedRequest, type Simulator } from '../../src/simulator/index';
import { runObserved, sumOf, type ObservedRun } from '../helpers/observed-run';
import { scan } from '../helpers/secret-scan';
import { REPO } from '../helpers/run-app';

const APP = resolve(REPO, 'test/fixtures/ai-sdk-app.mjs');
/** The fixture's own key, the primary's credential. */
const PRIMARY_KEY = 'sk-test-aisdk-0123456789';
const XAI_KEY = 'xai-test-backup-0123456789';
const AZURE_KEY = 'azure-test-backup-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'llm-governor-wire-fallback-'));

let primary: Simulator;
let backup: Simulator;
beforeAll(async () => {
  [primary, backup] = await Promise.all([startSimulator({ seed: 21 }), startSimulator({ seed: 22 })]);
});
afterAll(async () => {
  await Promise.all([primary?.close(), backup?.close()]);
});
beforeEach(() => {
  primary.reset();
  backup.reset();
  primary.setFaults([{ kind: '500' }]);
});

function configFile(name: string, config: object): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

const chain = (backups: object[], more: object = {}) => ({ fallbacks: [{ primary: { provider: 'openai', model: 'gpt-4o-mini' }, backups }], ...more });

type Run = ObservedRun & { toPrimary: RecordedRequest[]; toBackup: RecordedRequest[] };

async function run(name: string, config: object, env: Record<string, string> = {}): Promise<Run> {
  const r = await runObserved({
    script: APP,
    env: { SIM_URL: primary.url, PROVIDER: 'openai', MODE: 'fallback', OPENAI_BASE_URL: `${primary.url}/v1`, LLM_GOVERNOR_CONFIG: configFile(name, config), ...env },
  });
  expect(r.code, r.stderr).toBe(0);
  const chats = (s: Simulator) => s.requests().filter((q) => q.path.endsWith('/chat/completions'));
  return { ...r, toPrimary: chats(primary), toBackup: chats(backup) };
}

const auditOf = (r: ObservedRun, kind: string) => r.logs.filter((l) => l.attributes?.['llm_governor.audit.kind'] === kind);
const chatSpans = (r: ObservedRun) => r.spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat');
const headerText = (q: RecordedRequest) => JSON.stringify(q.headers);

/** What every served fallback must show: the answer, the span, the metric, the cost, the audit trail. */
function expectServedByBackup(r: Run, to: { provider: string; model: string }, calls: number): void {
  expect(r.out.error, r.stderr).toBeUndefined();
  const seen = r.out.calls as Array<{ name: string; stream: boolean; model?: string; text?: string; error?: unknown }>;
  expect(seen.map((c) => c.name)).toEqual(Array.from({ length: calls }, () => ['generateText', 'streamText']).flat());
  for (const call of seen) {
    expect(call.error).toBeUndefined();
    expect(call.model).toMatch(new RegExp(`^${to.model}`));
    expect(call.text!.length).toBeGreaterThan(0);
  }
  const spans = chatSpans(r);
  expect(spans).toHaveLength(calls * 2);
  for (const span of spans) {
    expect(span.attributes).toMatchObject({
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'llm_governor.served.provider': to.provider,
      'llm_governor.served.model': to.model,
      'server.address': '127.0.0.1',
      'server.port': backup.port,
    });
    expect(span.status.code).not.toBe(2);
    expect(span.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(span.attributes['llm_governor.usage.estimated']).not.toBe(true);
  }
  expect(spans.filter((s) => s.attributes['gen_ai.request.stream'] === true)).toHaveLength(calls);
  const from = 'openai/gpt-4o-mini';
  expect(sumOf(r.samples, 'llm_governor_fallbacks_total', { from, to: `${to.provider}/${to.model}` })).toBe(calls * 2);
  // Charged to what served.
  expect(sumOf(r.samples, 'llm_governor_cost_total', { gen_ai_provider_name: to.provider })).toBeGreaterThan(0);
  expect(sumOf(r.samples, 'llm_governor_cost_total', { gen_ai_provider_name: 'openai' })).toBe(0);
  const fallbacks = auditOf(r, 'fallback');
  expect(fallbacks).toHaveLength(calls * 2);
  expect(fallbacks[0]!.body).toMatchObject({
    ai_model: { ai_provider: to.provider, name: to.model },
    unmapped: { decision: 'fallback', fallback_from: { provider: 'openai', model: 'gpt-4o-mini' } },
  });
  const completed = auditOf(r, 'call_completed');
  expect(completed).toHaveLength(calls * 2);
  for (const c of completed)
    expect(c.body).toMatchObject({ ai_model: { ai_provider: to.provider, name: expect.stringMatching(new RegExp(`^${to.model}`)) }, unmapped: { requested_model: 'gpt-4o-mini' } });
  // Neither key, nor any credential, in what the package wrote.
  expect(scan({ otlp: r.otlpRaw.join('\n'), scrape: r.scrape, stdout: r.stdout, stderr: r.stderr }, [PRIMARY_KEY, XAI_KEY, AZURE_KEY])).toEqual([]);
  expect(auditOf(r, 'call_failed')).toHaveLength(0);
  // The backup got the body with its model, its own credentials, and nothing of the primary's.
  expect(r.toBackup).toHaveLength(calls * 2);
  for (const q of r.toBackup) {
    expect((q.body as { model?: string }).model).toBe(to.model);
    expect(headerText(q)).not.toContain(PRIMARY_KEY);
  }
  const streamed = r.toBackup.filter((q) => (q.body as { stream?: boolean }).stream === true);
  expect(streamed).toHaveLength(calls);
  for (const q of streamed) expect((q.body as { stream_options?: object }).stream_options).toMatchObject({ include_usage: true });
}

describe('the wire entry falls back as the openai SDK path does', () => {
  it('to xAI (XAI_BASE_URL, XAI_API_KEY): the AI SDK gets the backup’s answer, to generateText and to streamText', async () => {
    const r = await run('xai', chain([{ provider: 'x_ai', model: 'grok-3' }], { breaker_enabled: false }), { XAI_BASE_URL: backup.xaiBaseURL, XAI_API_KEY: XAI_KEY });
    expectServedByBackup(r, { provider: 'x_ai', model: 'grok-3' }, 1);
    // Each of the client's requests went to the primary once (our loop makes one try), then to the backup.
    expect(r.toPrimary).toHaveLength(2);
    for (const q of r.toPrimary) expect(q.headers.authorization).toBe(`Bearer ${PRIMARY_KEY}`);
    for (const q of r.toBackup) {
      expect(q.path).toBe('/xai/v1/chat/completions');
      expect(q.headers.authorization).toBe(`Bearer ${XAI_KEY}`);
      expect(q.headers['user-agent']).toMatch(/ai-sdk\//); // the client's other headers, as it sent them
    }
    const span = chatSpans(r)[0]!;
    const event = span.events.find((e) => e.name === 'llm_governor.fallback');
    expect(event?.attributes).toEqual({ from: 'openai/gpt-4o-mini', to: 'x_ai/grok-3', reason: '500' });
    expect(r.stderr).toBe('');
  });

  it('to Azure OpenAI (AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY): the deployment path, api-version and api-key', async () => {
    const r = await run('azure', chain([{ provider: 'azure.ai.openai', model: 'gpt-4o' }], { breaker_enabled: false }), {
      AZURE_OPENAI_ENDPOINT: backup.url,
      AZURE_OPENAI_API_KEY: AZURE_KEY,
    });
    expectServedByBackup(r, { provider: 'azure.ai.openai', model: 'gpt-4o' }, 1);
    for (const q of r.toBackup) {
      expect(q.path).toBe('/openai/deployments/gpt-4o/chat/completions');
      expect(q.headers['api-key']).toBe(AZURE_KEY);
      expect(q.headers.authorization).toBeUndefined();
    }
  });

  it('once the primary’s breaker is open, calls go straight to the backup', async () => {
    const r = await run('breaker', chain([{ provider: 'x_ai', model: 'grok-3' }], { breaker_failures: 1, breaker_reset_seconds: 60 }), {
      XAI_BASE_URL: backup.xaiBaseURL,
      XAI_API_KEY: XAI_KEY,
      CALLS: '2',
    });
    expectServedByBackup(r, { provider: 'x_ai', model: 'grok-3' }, 2);
    // One failure opened it: the primary saw only the first request.
    expect(r.toPrimary).toHaveLength(1);
    expect(sumOf(r.samples, 'llm_governor_fallbacks_total', { reason: 'circuit_open' })).toBe(3);
  });

  it('a backup whose environment is incomplete is skipped, with one warning: the AI SDK sees the primary’s 500', async () => {
    const r = await run('incomplete', chain([{ provider: 'x_ai', model: 'grok-3' }], { breaker_enabled: false }), { XAI_BASE_URL: backup.xaiBaseURL });
    const seen = r.out.calls as Array<{ error?: { status?: number; isAPICallError?: boolean } }>;
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0]!.error).toMatchObject({ isAPICallError: true, status: 500 });
    expect(r.toBackup).toHaveLength(0);
    expect(r.toPrimary.length).toBeGreaterThan(1); // the AI SDK's own retries
    expect(r.stderr.match(/XAI_API_KEY is not set/g)).toHaveLength(1);
    expect(sumOf(r.samples, 'llm_governor_fallbacks_total')).toBe(0);
  });
});
