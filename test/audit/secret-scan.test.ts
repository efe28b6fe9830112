// The secret scan (also its own `.ci/run` step): a full run of unmodified apps under the preload,
// every operation and provider, every guard, faults, fallbacks, every sink on. Everything the
// package emits is searched: the Prometheus scrape, OTLP traces and logs, the audit file, syslog,
// stdout and stderr. No API key or authorization header may appear anywhere; without content
// capture, no prompt text either. A run with capture on shows the scan does find prompt text.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { runObserved, type ObservedRun } from '../helpers/observed-run';
import { REPO } from '../helpers/run-app';
import { scan } from '../helpers/secret-scan';

const SEMANTICS_APP = resolve(REPO, 'test/fixtures/semantics-app.cjs');
const RESILIENCE_APP = resolve(REPO, 'test/fixtures/resilience-app.cjs');

/** Every key the apps and the backups use. */
const KEYS = [
  'sk-test-semantics-0123456789abcdef',
  'azure-key-0123456789abcdef',
  'xai-test-0123456789abcdef',
  'sk-test-resilience-0123456789',
  'azure-test-key-0123456789',
  'xai-test-key-0123456789',
  'xai-backup-key-0123456789',
  'sk-backup-key-0123456789',
];
/** Prompt text the apps send (chat, responses, embeddings, images, moderation, the resilience app). */
const PROMPTS = ['Which ocean contains Bouvet Island', 'a lighthouse', 'kill the process', 'hello world', 'tell me about the northern lights'];

let sim: Simulator;
let syslog: { server: Server; port: number; received: string[] };

beforeAll(async () => {
  sim = await startSimulator({ seed: 99, chunkDelayMs: 1 });
  const received: string[] = [];
  const server = createServer((socket) => socket.on('data', (d) => received.push(d.toString('utf8'))));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  syslog = { server, port: (server.address() as { port: number }).port, received };
});
afterAll(async () => {
  await sim?.close();
  await new Promise<void>((r) => syslog?.server.close(() => r()));
});

interface FullRun {
  runs: ObservedRun[];
  outputs: Record<string, string>;
}

async function fullRun(capture: boolean): Promise<FullRun> {
  const dir = mkdtempSync(join(tmpdir(), 'llm-governor-secrets-'));
  const auditFile = join(dir, 'audit.jsonl');
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      'budgets:',
      '  - { name: daily, limit_usd: 50 }',
      '  - { name: per-tenant, limit_usd: 10, per: tenant }',
      'moderation_rules:',
      '  - { name: no-passwords, pattern: "password:" }',
      'fallbacks:',
      '  - primary: { provider: openai, model: gpt-4o }',
      '    backups:',
      '      - { provider: x_ai, model: grok-3-mini }',
      '',
    ].join('\n'),
  );
  const common = {
    SIM_URL: sim.url,
    XAI_API_ENDPOINT: sim.xaiBaseURL,
    XAI_API_KEY: 'xai-backup-key-0123456789',
    OPENAI_API_KEY: 'sk-backup-key-0123456789',
    LLM_GOVERNOR_CONFIG: config,
    LLM_GOVERNOR_AUDIT_FILE: auditFile,
    LLM_GOVERNOR_AUDIT_SYSLOG: `tcp://127.0.0.1:${syslog.port}`,
    LLM_GOVERNOR_RATE_LIMIT_RPM: '1000',
    LLM_GOVERNOR_CACHE: 'on',
    LLM_GOVERNOR_USER_HASH_SALT: 'pepper',
    OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: capture ? 'true' : 'false',
    OTEL_LOG_LEVEL: 'debug',
  };
  syslog.received.length = 0;
  sim.reset();
  const runs: ObservedRun[] = [];
  // Every operation and provider, the stream helpers, HTTP errors, a reset connection, a cut-off stream.
  runs.push(await runObserved({ script: SEMANTICS_APP, env: common, timeoutMs: 90_000 }));
  // A flapping primary with retries and a fallback to xAI; then the same with streams.
  sim.setFaults([
    { kind: '500', probability: 0.5 },
    { kind: '429', probability: 0.2 },
  ]);
  try {
    for (const stream of ['', '1']) {
      runs.push(
        await runObserved({
          script: RESILIENCE_APP,
          env: { ...common, CALLS: '12', CONCURRENCY: '4', MODEL: 'gpt-4o', STREAM: stream, PROMPT: 'tell me about the northern lights', LLM_GOVERNOR_BREAKER_FAILURES: '3' },
          timeoutMs: 90_000,
        }),
      );
    }
  } finally {
    sim.setFaults([]);
  }
  for (const r of runs) expect(r.code, r.stderr).toBe(0);
  await new Promise((r) => setTimeout(r, 200)); // the last syslog frames
  return {
    runs,
    outputs: {
      'prometheus scrape': runs.map((r) => r.scrape).join('\n'),
      'OTLP traces': runs.flatMap((r) => r.otlpRaw.filter((t) => t.includes('"resourceSpans"'))).join('\n'),
      'OTLP logs': runs.flatMap((r) => r.otlpRaw.filter((t) => t.includes('"resourceLogs"'))).join('\n'),
      'audit file': readFileSync(auditFile, 'utf8'),
      syslog: syslog.received.join(''),
      stdout: runs.map((r) => r.stdout).join('\n'),
      stderr: runs.map((r) => r.stderr).join('\n'),
    },
  };
}

/** Every credential the echo app holds; the echoing upstream sends each back. */
const ECHOED = [
  'corp-opaque-key-A1B2C3D4E5',
  'gw-query-secret-778899',
  '0123456789abcdef0123456789abcdef',
  'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJjb2duaXRpdmVzZXJ2aWNlcyIsIm9pZCI6IjEyMyJ9.QWxsIHlvdXIgYmFzZSBhcmUgYmVsb25nIHRvIHVz',
];

/** An upstream that echoes every credential it receives, in its error bodies and headers. */
async function startEchoUpstream() {
  const { createServer: createHttp } = await import('node:http');
  let n = 0;
  const server = createHttp((req, res) => {
    req.resume();
    req.on('end', () => {
      const echo = `${req.method} ${req.url} authorization=${req.headers.authorization ?? ''} api-key=${req.headers['api-key'] ?? ''} token ${req.headers['x-gateway-token'] ?? ''} raw ${String(req.headers.authorization ?? req.headers['api-key'] ?? '').replace(/^Bearer /, '')}`;
      const status = [401, 400, 500][n++ % 3]!;
      res.writeHead(status, {
        'content-type': 'application/json',
        'x-echo-auth': String(req.headers.authorization ?? req.headers['api-key'] ?? ''),
        'www-authenticate': `Bearer error="invalid_token", token="${req.headers.authorization ?? ''}"`,
      });
      res.end(JSON.stringify({ error: { message: `Access denied: ${echo}`, type: 'invalid_request_error', code: 'invalid_api_key' } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('secret scan over everything the package emits', () => {
  it('an upstream that echoes every credential back: none reaches spans, logs, audit events or output', async () => {
    const echo = await startEchoUpstream();
    const dir = mkdtempSync(join(tmpdir(), 'llm-governor-echo-'));
    const auditFile = join(dir, 'audit.jsonl');
    try {
      const r = await runObserved({
        script: resolve(REPO, 'test/fixtures/echo-credentials-app.cjs'),
        env: { ECHO_URL: echo.url, LLM_GOVERNOR_AUDIT_FILE: auditFile, LLM_GOVERNOR_BREAKER_ENABLED: 'false' },
      });
      expect(r.code, r.stderr).toBe(0);
      const seen = JSON.parse(r.stdout.trim().split('\n').pop()!);
      expect(seen.filter((x: string) => x !== 'ok')).toHaveLength(6);
      // The spans did get the upstream's messages (redacted), so the scan had something to scan.
      const exceptions = r.spans.flatMap((s) => s.events.filter((e) => e.name === 'exception'));
      expect(exceptions.length).toBeGreaterThanOrEqual(6);
      expect(JSON.stringify(exceptions)).toContain('Access denied');
      const outputs = {
        'OTLP traces': r.otlpRaw.filter((t) => t.includes('"resourceSpans"')).join('\n'),
        'OTLP logs': r.otlpRaw.filter((t) => t.includes('"resourceLogs"')).join('\n'),
        'audit file': readFileSync(auditFile, 'utf8'),
        'prometheus scrape': r.scrape,
        stderr: r.stderr,
      };
      const findings = scan(outputs, ECHOED);
      expect(findings, JSON.stringify(findings.slice(0, 5), null, 1)).toEqual([]);
    } finally {
      await echo.close();
    }
  }, 60_000);

  it('a full run without content capture: no key, no authorization header, no prompt text, anywhere', async () => {
    const { outputs } = await fullRun(false);
    // The scan must have had something to scan in each place.
    for (const [where, text] of Object.entries(outputs)) if (where !== 'stderr') expect(text.length, where).toBeGreaterThan(100);
    expect(outputs['audit file']).toContain('"call_completed"');
    expect(outputs['OTLP logs']).toContain('llm_governor.audit');
    expect(outputs.syslog).toContain('"class_uid":6003');
    expect(outputs['audit file']).toContain('"fallback"');
    const findings = scan(outputs, [...KEYS, ...PROMPTS]);
    expect(findings, JSON.stringify(findings.slice(0, 5), null, 1)).toEqual([]);
  }, 240_000);

  it('with content capture on, the same scan finds the prompts in the traces (it can fail), and still no key', async () => {
    const { outputs } = await fullRun(true);
    const prompts = scan(outputs, PROMPTS);
    expect(prompts.some((f) => f.where === 'OTLP traces' && f.what === PROMPTS[0])).toBe(true);
    // The audit trail never carries content, capture or not.
    expect(prompts.filter((f) => f.where === 'audit file' || f.where === 'syslog' || f.where === 'OTLP logs')).toEqual([]);
    expect(scan(outputs, KEYS)).toEqual([]);
  }, 240_000);
});
