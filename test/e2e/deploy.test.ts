// The deploy kit, end to end, with the real binaries from Debian's packages: the demo (a plain
// openai app under the preload, against the simulator, with small budgets and an Azure fault
// window long enough to keep a breaker open for over a minute) is scraped by a real Prometheus
// running the shipped rules, which alerts a real Alertmanager running the shipped routing, which
// posts to a local webhook (standing in for the SIEM/SOAR ingest).
//
// What the test changes in the shipped files, and nothing else: addresses (localhost ports
// instead of compose service names), the scrape and evaluation intervals (1 s), Alertmanager's
// group_wait / group_interval (1 s / 5 s), and the rule files' paths. Asserted:
//   - the budget-threshold and breaker-open notifications reach the webhook within a bound;
//   - every dashboard panel's query, its variables filled in, returns data from that Prometheus;
//   - every metric name the dashboards and rules use is in the exporter's real output.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { ATTR, AUDIT_ATTR } from '../../src/semconv';
import { freePort, REPO } from '../helpers/run-app';

const DEPLOY = resolve(REPO, 'deploy');
const BINARIES = { prometheus: '/usr/bin/prometheus', alertmanager: '/usr/bin/prometheus-alertmanager' };
/** The demo's run: the fault window opens at 5 s and lasts 80 s; traffic stops at 110 s. */
const DEMO_ARGS = ['--seconds', '110', '--fault-at', '5', '--fault-seconds', '80'];
/** How long, from the demo's start, each notification may take. */
const THRESHOLD_BOUND_S = 60;
const BREAKER_BOUND_S = 5 + 60 + 40; // opens at ~5 s, must stay open 1 min, plus evaluation and routing

interface Notification {
  receivedAt: number;
  status: string;
  alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string> }[];
}

const children: ChildProcess[] = [];
const logs: Record<string, string> = {};
let webhook: { server: Server; url: string; received: Notification[] };
let prometheusUrl = '';
let demo: { started: number; exit: Promise<number | null>; port: number };

function start(name: string, cmd: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  logs[name] = '';
  child.stdout!.on('data', (d) => (logs[name] += d));
  child.stderr!.on('data', (d) => (logs[name] += d));
  children.push(child);
  return child;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== null && v !== false) return v as T;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}\n${Object.entries(logs)
          .map(([k, v]) => `--- ${k}\n${v.slice(-3000)}`)
          .join('\n')}`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function promQuery(path: string, params: Record<string, string>): Promise<any> {
  const res = await fetch(`${prometheusUrl}${path}?${new URLSearchParams(params)}`);
  const body = (await res.json()) as any;
  if (body.status !== 'success') throw new Error(`${path} ${JSON.stringify(params)}: ${body.error}`);
  return body.data;
}

/** The shipped Alertmanager config, with the webhook on our port and short grouping waits. */
function alertmanagerConfig(dir: string): string {
  const shipped = readFileSync(join(DEPLOY, 'alertmanager/alertmanager.yml'), 'utf8');
  expect(shipped).toContain('http://siem-ingest:8080/alertmanager');
  const text = shipped
    .replaceAll('http://siem-ingest:8080/alertmanager', webhook.url)
    .replace(/group_wait:\s*\S+/g, 'group_wait: 1s')
    .replace(/group_interval:\s*\S+/g, 'group_interval: 5s');
  const file = join(dir, 'alertmanager.yml');
  writeFileSync(file, text);
  return file;
}

/** The shipped Prometheus config, pointed at the demo and Alertmanager on localhost, evaluating every second. */
function prometheusConfig(dir: string, demoPort: number, amPort: number): string {
  const config = parseYaml(readFileSync(join(DEPLOY, 'prometheus/prometheus.yml'), 'utf8'));
  config.global = { ...config.global, scrape_interval: '1s', evaluation_interval: '1s' };
  config.rule_files = readdirSync(join(DEPLOY, 'prometheus/rules'))
    .filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
    .map((f) => join(DEPLOY, 'prometheus/rules', f));
  config.alerting = { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] };
  const appJob = config.scrape_configs.find((j: any) => JSON.stringify(j).includes('9464'));
  expect(appJob, 'a scrape job for the app on :9464').toBeDefined();
  appJob.scrape_interval = '1s';
  for (const sc of appJob.static_configs) sc.targets = [`127.0.0.1:${demoPort}`];
  config.scrape_configs = [appJob];
  const file = join(dir, 'prometheus.yml');
  writeFileSync(file, toYaml(config));
  return file;
}

beforeAll(async () => {
  for (const [name, path] of Object.entries(BINARIES)) {
    if (!existsSync(path))
      throw new Error(`${path} (${name}) is missing: install Debian's prometheus and prometheus-alertmanager (apt-get install -y prometheus prometheus-alertmanager; .ci/run does it)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'llm-governor-e2e-'));
  const received: Notification[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      try {
        received.push({ receivedAt: Date.now(), ...JSON.parse(body) });
      } catch {
        /* not JSON: ignored */
      }
      res.writeHead(200).end();
    });
  });
  const hookPort = await freePort();
  await new Promise<void>((r) => server.listen(hookPort, '127.0.0.1', r));
  webhook = { server, url: `http://127.0.0.1:${hookPort}/alertmanager`, received };

  const amPort = await freePort();
  start('alertmanager', BINARIES.alertmanager, [
    `--config.file=${alertmanagerConfig(dir)}`,
    `--storage.path=${join(dir, 'am')}`,
    `--web.listen-address=127.0.0.1:${amPort}`,
    '--cluster.listen-address=',
  ]);
  await waitFor('alertmanager', async () => (await fetch(`http://127.0.0.1:${amPort}/-/ready`)).ok, 20_000);

  const demoPort = await freePort();
  const promPort = await freePort();
  prometheusUrl = `http://127.0.0.1:${promPort}`;
  start('prometheus', BINARIES.prometheus, [`--config.file=${prometheusConfig(dir, demoPort, amPort)}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`]);
  await waitFor('prometheus', async () => (await fetch(`${prometheusUrl}/-/ready`)).ok, 20_000);

  const child = start('demo', process.execPath, [resolve(REPO, 'dist/demo/main.js'), ...DEMO_ARGS], { DEMO_METRICS_PORT: String(demoPort) });
  demo = { started: Date.now(), port: demoPort, exit: new Promise((r) => child.on('exit', (code) => r(code))) };
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await new Promise<void>((r) => webhook?.server.close(() => r()));
});

function firstFiring(alertname: RegExp): Notification | undefined {
  return webhook.received.find((n) => n.alerts.some((a) => a.status === 'firing' && alertname.test(a.labels.alertname)));
}

describe('deploy kit end to end: demo → Prometheus (shipped rules) → Alertmanager (shipped routing) → webhook', () => {
  it(
    'the budget-threshold notification reaches the webhook within its bound',
    async () => {
      const n = await waitFor('a budget threshold notification', () => firstFiring(/Threshold/i), THRESHOLD_BOUND_S * 1000);
      expect((n.receivedAt - demo.started) / 1000).toBeLessThan(THRESHOLD_BOUND_S);
      const alert = n.alerts.find((a) => /Threshold/i.test(a.labels.alertname))!;
      expect(alert.labels.severity).toBe('warning');
      expect(alert.annotations.summary).toBeTruthy();
      expect(alert.annotations.runbook).toBeTruthy();
    },
    (THRESHOLD_BOUND_S + 10) * 1000,
  );

  it(
    'the breaker-open notification (open for over a minute) reaches the webhook within its bound',
    async () => {
      const n = await waitFor('a breaker-open notification', () => firstFiring(/Breaker/i), BREAKER_BOUND_S * 1000);
      const elapsed = (n.receivedAt - demo.started) / 1000;
      expect(elapsed).toBeLessThan(BREAKER_BOUND_S);
      expect(elapsed).toBeGreaterThan(60); // not before the breaker was open for a minute
      const alert = n.alerts.find((a) => /Breaker/i.test(a.labels.alertname))!;
      expect(alert.labels.gen_ai_provider_name).toBe('azure.ai.openai');
    },
    (BREAKER_BOUND_S + 10) * 1000,
  );

  it('the demo ends cleanly (breaker closed again, one audit event per call)', async () => {
    const code = await demo.exit;
    expect(code, logs.demo.slice(-3000)).toBe(0);
  }, 150_000);

  it('every dashboard panel query returns data from that Prometheus', async () => {
    const dashboards = readdirSync(join(DEPLOY, 'grafana/dashboards')).filter((f) => f.endsWith('.json'));
    expect(dashboards.length).toBeGreaterThanOrEqual(3);
    const end = Date.now() / 1000;
    const range = Math.ceil(end - demo.started / 1000);
    const empty: string[] = [];
    let queries = 0;
    for (const file of dashboards) {
      const dashboard = JSON.parse(readFileSync(join(DEPLOY, 'grafana/dashboards', file), 'utf8'));
      for (const panel of panelsOf(dashboard)) {
        for (const target of panel.targets ?? []) {
          if (!target.expr) continue;
          queries++;
          const expr = fillVariables(target.expr, range);
          const data = await promQuery('/api/v1/query_range', { query: expr, start: String(end - range), end: String(end), step: '5' });
          if (!data.result.length) empty.push(`${file} › ${panel.title} › ${target.refId}: ${expr}`);
        }
      }
    }
    expect(queries).toBeGreaterThan(15);
    expect(empty, `panels without data:\n${empty.join('\n')}`).toEqual([]);
  }, 120_000);

  it('every metric name the dashboards and rules use is in the exporter’s real output', async () => {
    const scraped = new Set<string>(await promQuery('/api/v1/label/__name__/values', { 'match[]': '{job=~".+"}' }));
    const used = new Set<string>();
    for (const file of readdirSync(join(DEPLOY, 'grafana/dashboards')).filter((f) => f.endsWith('.json'))) {
      for (const panel of panelsOf(JSON.parse(readFileSync(join(DEPLOY, 'grafana/dashboards', file), 'utf8'))))
        for (const t of panel.targets ?? []) for (const m of metricNames(t.expr ?? '')) used.add(m);
    }
    const recorded = new Set<string>();
    for (const file of readdirSync(join(DEPLOY, 'prometheus/rules'))) {
      const rules = parseYaml(readFileSync(join(DEPLOY, 'prometheus/rules', file), 'utf8'));
      for (const g of rules.groups)
        for (const r of g.rules) {
          if (r.record) recorded.add(r.record);
          for (const m of metricNames(r.expr)) used.add(m);
        }
    }
    const missing = [...used].filter((m) => !scraped.has(m) && !recorded.has(m));
    expect(used.size).toBeGreaterThan(10);
    expect(missing, `not in the real scrape: ${missing.join(', ')}`).toEqual([]);
  });
});

function panelsOf(dashboard: any): any[] {
  const out: any[] = [];
  const walk = (panels: any[] | undefined) => {
    for (const p of panels ?? []) {
      out.push(p);
      walk(p.panels);
    }
  };
  walk(dashboard.panels);
  return out;
}

/** Grafana's variables, as Grafana would fill them: All for service and environment. */
function fillVariables(expr: string, rangeSeconds: number): string {
  return expr
    .replaceAll('$__rate_interval', '30s')
    .replaceAll('${__rate_interval}', '30s')
    .replaceAll('$__range', `${rangeSeconds}s`)
    .replaceAll('${__range}', `${rangeSeconds}s`)
    .replaceAll('$__interval', '5s')
    .replaceAll('${__interval}', '5s')
    .replace(/\$\{?service\}?/g, '.*')
    .replace(/\$\{?environment\}?/g, '.*');
}

/** Metric names in a PromQL expression: our prefixes, as the exporter prints them, and recorded series (with colons). */
function metricNames(expr: string): string[] {
  const tokens = expr.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
  return [...new Set(tokens.filter((t) => /^(gen_ai|llm_governor)[_:]/.test(t) && !LABELS.has(t)))];
}

/** Label names that share the prefixes: every attribute name we emit, as the exporter prints it. */
const LABELS = new Set([...Object.values(ATTR), ...Object.values(AUDIT_ATTR), 'llm_governor.budget'].map((a) => String(a).replace(/[^a-zA-Z0-9_]/g, '_')));
