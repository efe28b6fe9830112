import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { parsePrometheusText } from '../../src/util/prometheus-text';
import { startOtlpReceiver } from '../helpers/otlp';
import { packedApp } from '../helpers/packed';
import { freePort, REPO, runApp } from '../helpers/run-app';

/**
 * Audit events reach the Collector as OTLP log records, from the package as a user installs it
 * (`npm pack`, the dependencies npm resolves today) with the preload's own SDK: as many
 * `llm_governor.audit` records at a real OTLP/HTTP receiver as events in the audit file of the
 * same run, over both OTLP/HTTP protocols, for an app that ends by itself, one that runs on, and
 * one that is killed with SIGTERM. And again with a second copy of `@opentelemetry/api-logs`
 * inside the package, as an app's own dependencies can produce.
 */
let sim: Simulator;
let app: string;
let duplicated: string;
beforeAll(async () => {
  sim = await startSimulator({ seed: 5 });
  app = packedApp(['openai@6']);
  writeFileSync(join(app, 'audit-otlp-app.cjs'), readFileSync(resolve(REPO, 'test/fixtures/audit-otlp-app.cjs')));
  // The same install, with the package holding its own copy of the Logs API (another version).
  duplicated = mkdtempSync(join(tmpdir(), 'llm-governor-dup-'));
  cpSync(app, duplicated, { recursive: true, verbatimSymlinks: true });
  const nested = join(duplicated, 'node_modules/llm-governor/node_modules/@opentelemetry/api-logs');
  if (!existsSync(nested)) {
    cpSync(join(duplicated, 'node_modules/@opentelemetry/api-logs'), nested, { recursive: true });
    const pkg = JSON.parse(readFileSync(join(nested, 'package.json'), 'utf8'));
    writeFileSync(join(nested, 'package.json'), JSON.stringify({ ...pkg, version: `${pkg.version}-copy` }));
  }
}, 300_000);
afterAll(async () => sim?.close());

type Mode = 'short' | 'long' | 'sigterm';

async function run(dir: string, protocol: string, mode: Mode, extraEnv: Record<string, string> = {}, receiverOpts = {}) {
  const otlp = await startOtlpReceiver(receiverOpts);
  const file = join(mkdtempSync(join(tmpdir(), 'otlp-audit-')), 'audit.jsonl');
  try {
    const r = await runApp({
      script: join(dir, 'audit-otlp-app.cjs'),
      cwd: dir,
      preload: 'require',
      register: 'llm-governor/register',
      env: {
        SIM_URL: sim.url,
        MODE: mode,
        LLM_GOVERNOR_AUDIT_FILE: file,
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_LOGS_EXPORTER: 'otlp',
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_SERVICE_NAME: 'otlp-audit-app',
        ...extraEnv,
      },
      onReady: async (child) => {
        child.kill('SIGTERM');
      },
    });
    await new Promise((res) => setTimeout(res, 100));
    const events = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const records = otlp.logs.filter((l) => l.eventName === 'llm_governor.audit');
    return { r, events, records, otlp };
  } finally {
    await otlp.close();
  }
}

describe('audit events as OTLP log records, from an npm pack install', () => {
  for (const protocol of ['http/protobuf', 'http/json']) {
    for (const mode of ['short', 'long', 'sigterm'] as Mode[]) {
      it(`${protocol}, an app that ${mode === 'short' ? 'ends by itself' : mode === 'long' ? 'runs on for 3 s' : 'is killed with SIGTERM'}: as many records as file events`, async () => {
        const { r, events, records, otlp } = await run(app, protocol, mode);
        if (mode === 'sigterm') expect(r.signal).toBe('SIGTERM');
        else expect(r.code, r.stderr).toBe(0);
        expect(events.length).toBeGreaterThanOrEqual(5); // config_loaded + 4 calls
        expect(otlp.raw.some((x) => x.path.endsWith('/v1/logs'))).toBe(true);
        expect(records.length).toBe(events.length);
        // The same events: kinds and the record's body is the OCSF event itself.
        const kinds = (xs: string[]) => xs.sort().join(',');
        expect(kinds(records.map((x) => String(x.attributes['llm_governor.audit.kind'])))).toBe(kinds(events.map((e) => e.unmapped.kind)));
        expect(new Set(records.map((x) => (x.body as { metadata?: { uid?: string } }).metadata?.uid))).toEqual(new Set(events.map((e) => e.metadata.uid)));
      }, 60_000);
    }
  }

  it('with a second copy of @opentelemetry/api-logs inside the package, too', async () => {
    const { r, events, records } = await run(duplicated, 'http/protobuf', 'short');
    expect(r.code, r.stderr).toBe(0);
    expect(events.length).toBeGreaterThanOrEqual(5);
    expect(records.length).toBe(events.length);
  }, 60_000);
});

describe('an app with its own logger provider', () => {
  it('audit records go through it (LLM_GOVERNOR_SDK=off), as many as file events', async () => {
    writeFileSync(join(app, 'own-logs-sdk-app.cjs'), readFileSync(resolve(REPO, 'test/fixtures/own-logs-sdk-app.cjs')));
    const otlp = await startOtlpReceiver();
    const file = join(mkdtempSync(join(tmpdir(), 'otlp-audit-')), 'audit.jsonl');
    try {
      const r = await runApp({
        script: join(app, 'own-logs-sdk-app.cjs'),
        cwd: app,
        preload: 'require',
        register: 'llm-governor/register',
        env: { SIM_URL: sim.url, LLM_GOVERNOR_SDK: 'off', LLM_GOVERNOR_AUDIT_FILE: file, APP_LOGS_URL: `${otlp.url}/app/v1/logs`, OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none' },
      });
      expect(r.code, r.stderr).toBe(0);
      const events = readFileSync(file, 'utf8').trim().split('\n').filter(Boolean);
      expect(events.length).toBe(4); // config_loaded + 3 calls
      expect(otlp.logs.filter((l) => l.eventName === 'llm_governor.audit').length).toBe(events.length);
      expect(new Set(otlp.raw.map((x) => x.path))).toEqual(new Set(['/app/v1/logs']));
    } finally {
      await otlp.close();
    }
  }, 60_000);
});

describe('the OTLP audit sink counts what the exporter delivered, not what it was handed', () => {
  it('a Collector that refuses every logs export: counted as failed and lost, nothing as delivered', async () => {
    const port = await freePort();
    let scrape = '';
    const otlp = await startOtlpReceiver({ logsStatus: 500 });
    const file = join(mkdtempSync(join(tmpdir(), 'otlp-audit-')), 'audit.jsonl');
    try {
      const r = await runApp({
        script: join(app, 'audit-otlp-app.cjs'),
        cwd: app,
        preload: 'require',
        register: 'llm-governor/register',
        env: {
          SIM_URL: sim.url,
          MODE: 'sigterm',
          LLM_GOVERNOR_AUDIT_FILE: file,
          OTEL_TRACES_EXPORTER: 'none',
          OTEL_LOGS_EXPORTER: 'otlp',
          OTEL_BLRP_SCHEDULE_DELAY: '100',
          OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
          OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
        },
        onReady: async (child) => {
          // The batch goes out after 100 ms; the exporter's own retries of a 500 take a while.
          const deadline = Date.now() + 20_000;
          while (Date.now() < deadline) {
            scrape = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
            const lost = /llm_governor_audit_dropped_total\{reason="export_failed",llm_governor_audit_sink="otel"[^}]*\} (\d+)/.exec(scrape)?.[1];
            const written = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).length : 0;
            if (written >= 5 && Number(lost) === written) break;
            await new Promise((res) => setTimeout(res, 250));
          }
          child.kill('SIGTERM');
        },
      });
      expect(r.signal).toBe('SIGTERM');
      const samples = parsePrometheusText(scrape);
      const sum = (name: string, sink: string, labels: Record<string, string> = {}) =>
        samples.filter((s) => s.name === name && s.labels.llm_governor_audit_sink === sink && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
      const events = readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).length;
      // Every event handed to the exporter was lost with a refused export, and is counted as such.
      expect(sum('llm_governor_audit_sink_errors_total', 'otel')).toBeGreaterThanOrEqual(1);
      expect(sum('llm_governor_audit_dropped_total', 'otel', { reason: 'export_failed' })).toBe(events);
      expect(sum('llm_governor_audit_delivered_total', 'otel')).toBe(0);
      // The file sink delivered every event, and says so.
      expect(sum('llm_governor_audit_delivered_total', 'file')).toBe(events);
    } finally {
      await otlp.close();
    }
  }, 60_000);
});
