import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { startOtlpReceiver } from '../helpers/otlp';
import { REPO } from '../helpers/run-app';

/**
 * Serverless: the runtime freezes the process as soon as the handler returns. A handler that
 * awaits `flush()` loses nothing: its span, its metrics (pushed over OTLP), its audit event and its
 * budget settlement are out before the freeze. Without it, the batches wait for timers that a
 * frozen process never runs.
 */
let sim: Simulator;
let dir: string;
beforeAll(async () => {
  sim = await startSimulator({ seed: 19 });
  dir = mkdtempSync(join(tmpdir(), 'llm-governor-serverless-'));
});
afterAll(async () => {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function invokeAndFreeze(flush: boolean) {
  const otlp = await startOtlpReceiver();
  const audit = join(dir, `audit-${flush}.jsonl`);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('VITEST') && k !== 'NODE_OPTIONS') env[k] = v;
  Object.assign(env, {
    SIM_URL: sim.url,
    FLUSH: flush ? '1' : '0',
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    // Batches that only a timer would send: the freeze comes first.
    OTEL_BSP_SCHEDULE_DELAY: '30000',
    OTEL_BLRP_SCHEDULE_DELAY: '30000',
    OTEL_METRIC_EXPORT_INTERVAL: '60000',
    LLM_GOVERNOR_AUDIT_FILE: audit,
    LLM_GOVERNOR_DAILY_BUDGET_USD: '100',
  });
  const child = spawn(process.execPath, ['--require', resolve(REPO, 'dist/register.js'), resolve(REPO, 'test/fixtures/serverless-handler.cjs')], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  try {
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`no answer from the handler: ${stderr}`)), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        stdout += d;
        if (stdout.includes('\n')) {
          clearTimeout(t);
          res();
        }
      });
    });
    // The process is frozen now: whatever is not out yet stays in it.
    await new Promise((r) => setTimeout(r, 1_000));
    const auditLines = existsSync(audit) ? readFileSync(audit, 'utf8').trim().split('\n').filter(Boolean) : [];
    return { out: JSON.parse(stdout), spans: [...otlp.spans], logs: [...otlp.logs], metricsPushes: otlp.raw.filter((r) => r.path.endsWith('/v1/metrics')).length, auditLines, stderr };
  } finally {
    child.kill('SIGKILL');
    await otlp.close();
  }
}

describe('flush() before a serverless handler returns', () => {
  it('with flush(): the span, the metrics, the audit event and the settlement are out before the freeze', async () => {
    const r = await invokeAndFreeze(true);
    expect(r.out.tokens).toBeGreaterThan(0);
    const span = r.spans.find((s) => s.attributes['gen_ai.operation.name'] === 'chat');
    expect(span, r.stderr).toBeDefined();
    expect(span!.attributes['llm_governor.cost.usd']).toBeGreaterThan(0);
    expect(r.metricsPushes).toBeGreaterThan(0);
    expect(r.logs.some((l) => l.attributes?.['llm_governor.audit.kind'] === 'call_completed')).toBe(true);
    expect(r.auditLines.some((l) => l.includes('call_completed'))).toBe(true);
  });

  it('without it, the frozen process still holds its span and metrics (what flush() is for)', async () => {
    const r = await invokeAndFreeze(false);
    expect(r.out.tokens).toBeGreaterThan(0);
    expect(r.spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat')).toHaveLength(0);
    expect(r.metricsPushes).toBe(0);
  });
});
