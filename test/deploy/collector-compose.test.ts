// The deploy kit's docker-compose.yml, checked without a Docker engine: its mounts, ports and
// service names agreeing with the collector, Prometheus, Alertmanager and Grafana files, and the
// SIEM webhook stand-in it mounts actually answering. The collector configs themselves are
// checked in collector.test.ts.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bindMounts,
  COLLECTOR_DIR,
  compose,
  composeCollectorConfig,
  type Config,
  DEPLOY,
  envOf,
  flag,
  hostPath,
  listeningPorts,
  load,
  portOf,
  reachable,
  REPO,
  services,
  typeOf,
} from './collector-helpers';

describe('deploy/docker-compose.yml', () => {
  it('has the kit’s services, with pinned images', () => {
    expect(Object.keys(services).sort()).toEqual(['alertmanager', 'demo', 'grafana', 'otel-collector', 'prometheus', 'siem-ingest']);
    for (const [name, svc] of Object.entries(services)) {
      if (svc.build) continue;
      expect(svc.image, `${name} image`).toMatch(/^[a-z0-9./_-]+:[A-Za-z0-9._-]+$/);
      expect(svc.image.split(':')[1], `${name} image tag`).not.toBe('latest');
    }
    for (const name of ['otel-collector', 'prometheus', 'alertmanager', 'grafana']) expect(services[name]!.image, name).toMatch(/:v?\d+\.\d+\.\d+$/);
    expect(services['otel-collector']!.image).toMatch(/^otel\/opentelemetry-collector-contrib:/);
  });

  it('mounts only host paths that exist, and declares its named volumes', () => {
    const absent: string[] = [];
    for (const [name, svc] of Object.entries(services)) {
      for (const [host] of bindMounts(svc)) if (!existsSync(host)) absent.push(`${name}: ${relative(REPO, host)}`);
      for (const v of svc.volumes ?? []) {
        const src = typeof v === 'string' ? v.split(':')[0]! : v.type === 'volume' ? v.source : '.';
        if (!src.startsWith('.') && !src.startsWith('/')) expect(compose.volumes ?? {}, `${name}: volume ${src}`).toHaveProperty(src);
      }
    }
    expect(absent).toEqual([]);
  });

  it('builds the demo image from files that exist and that its ignore file lets through', () => {
    const build = services.demo!.build;
    const context = resolve(DEPLOY, build.context);
    const dockerfile = join(context, build.dockerfile);
    expect(existsSync(dockerfile)).toBe(true);
    const ignore = readFileSync(`${dockerfile}.dockerignore`, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('*');
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1));
    for (const line of readFileSync(dockerfile, 'utf8').split('\n')) {
      const m = /^COPY\s+(.+)\s+\S+$/.exec(line.trim());
      if (!m) continue;
      for (const src of m[1]!.split(/\s+/)) {
        expect(existsSync(join(context, src)), `COPY ${src}`).toBe(true);
        expect(
          allowed.some((a) => src === a || src.startsWith(`${a}/`)),
          `${src} passes Dockerfile.dockerignore`,
        ).toBe(true);
      }
    }
  });

  it('points the demo at the collector (OTLP/HTTP traces and logs) and serves /metrics beyond localhost', () => {
    const env = envOf(services.demo!);
    expect(env.OTEL_TRACES_EXPORTER).toBe('otlp');
    expect(env.OTEL_LOGS_EXPORTER).toBe('otlp');
    expect(env.DEMO_METRICS_HOST).toBe('0.0.0.0');
    expect(reachable(env.OTEL_EXPORTER_OTLP_ENDPOINT!)).toBeUndefined();
    const { cfg } = composeCollectorConfig();
    expect(portOf(cfg.receivers.otlp.protocols.http.endpoint)).toBe(Number(new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT!).port));
    expect(env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').toMatch(/^http\//);
  });

  it('keeps the demo running, with fault windows long enough for the breaker alert', () => {
    const args: string[] = services.demo!.command;
    expect(args).toContain('--serve');
    const faultSeconds = Number(args[args.indexOf('--fault-seconds') + 1]);
    // The breaker stays open for the fault window; the alert needs it open for its `for:`, seen by
    // Prometheus at consecutive evaluations: slack for the scrape, the evaluation and the opening.
    const rulesFile = join(DEPLOY, 'prometheus/rules/llm-governor-alerts.yml');
    const promFile = join(DEPLOY, 'prometheus/prometheus.yml');
    const seconds = (d: string) => [...String(d).matchAll(/(\d+)([smh])/g)].reduce((a, m) => a + Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'], 0);
    let needed = 75;
    if (existsSync(rulesFile) && existsSync(promFile)) {
      const rule = load(rulesFile)
        .groups.flatMap((g: Config) => g.rules)
        .find((r: Config) => r.alert === 'LlmGovernorBreakerOpen');
      const interval = seconds(load(promFile).global?.evaluation_interval ?? '1m');
      if (rule) needed = seconds(rule.for ?? '0s') + 3 * interval;
    }
    expect(faultSeconds).toBeGreaterThanOrEqual(needed);
  });

  it('runs the compose collector config, writing its files to a volume', () => {
    const { file, cfg } = composeCollectorConfig();
    expect(relative(COLLECTOR_DIR, file)).toBe('config.local.yaml');
    const svc = services['otel-collector']!;
    const volumeTargets = (svc.volumes ?? []).map((v: string | Config) => (typeof v === 'string' ? v.split(':')[1] : v.target));
    for (const [id, e] of Object.entries<Config>(cfg.exporters).filter(([x]) => typeOf(x) === 'file')) {
      expect(
        volumeTargets.some((t: string) => !posix.relative(t, posix.dirname(e.path)).startsWith('..')),
        `${id} writes to a mounted volume`,
      ).toBe(true);
    }
  });

  it('mounts Grafana’s provisioning, and the dashboards where the provider reads them', () => {
    const grafana = services.grafana!;
    expect(hostPath(grafana, '/etc/grafana/provisioning')).toBe(join(DEPLOY, 'grafana/provisioning'));
    const dir = join(DEPLOY, 'grafana/provisioning/dashboards');
    const providers = existsSync(dir) ? readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)) : [];
    for (const f of providers) {
      for (const p of load(join(dir, f)).providers ?? []) {
        expect(hostPath(grafana, p.options.path), `${f}: ${p.options.path}`).toBe(join(DEPLOY, 'grafana/dashboards'));
      }
    }
    const home = envOf(grafana).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    if (home) expect(existsSync(hostPath(grafana, home) ?? ''), home).toBe(true);
  });

  it.skipIf(!existsSync(join(DEPLOY, 'grafana/provisioning/datasources')))('points Grafana’s datasources at compose services', () => {
    const dir = join(DEPLOY, 'grafana/provisioning/datasources');
    for (const f of readdirSync(dir).filter((x) => /\.ya?ml$/.test(x))) {
      for (const ds of load(join(dir, f)).datasources ?? []) if (ds.url) expect(reachable(ds.url), `${f}: ${ds.name}`).toBeUndefined();
    }
  });

  it.skipIf(!existsSync(join(DEPLOY, 'prometheus/prometheus.yml')))('lines up prometheus.yml’s targets with the compose services and ports', () => {
    const svc = services.prometheus!;
    const configFile = hostPath(svc, flag(svc, 'config.file') ?? '/etc/prometheus/prometheus.yml');
    expect(configFile).toBe(join(DEPLOY, 'prometheus/prometheus.yml'));
    const prom = load(configFile!);
    const problems: string[] = [];
    const targets: string[] = [];
    for (const job of prom.scrape_configs ?? []) for (const sc of job.static_configs ?? []) targets.push(...sc.targets);
    for (const am of prom.alerting?.alertmanagers ?? []) for (const sc of am.static_configs ?? []) targets.push(...sc.targets);
    for (const t of targets) {
      const why = reachable(t);
      if (why) problems.push(why);
    }
    expect(problems).toEqual([]);
    expect(targets, 'scrapes the demo').toContain(`demo:${listeningPorts('demo')[0]}`);
    expect(targets, 'alerts the compose Alertmanager').toContain(`alertmanager:${listeningPorts('alertmanager')[0]}`);
    // Rule files resolve inside the mounted folder.
    for (const pattern of prom.rule_files ?? []) {
      const dir = join(dirname(configFile!), dirname(pattern));
      const re = new RegExp(
        `^${posix
          .basename(pattern)
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')}$`,
      );
      expect(existsSync(dir) && readdirSync(dir).some((f) => re.test(f)), `rule_files ${pattern}`).toBe(true);
    }
  });

  it.skipIf(!existsSync(join(DEPLOY, 'alertmanager/alertmanager.yml')))('lines up Alertmanager’s webhooks with the compose services and ports', () => {
    const svc = services.alertmanager!;
    const configFile = hostPath(svc, flag(svc, 'config.file') ?? '/etc/alertmanager/alertmanager.yml');
    expect(configFile).toBe(join(DEPLOY, 'alertmanager/alertmanager.yml'));
    const am = load(configFile!);
    const urls = (am.receivers ?? []).flatMap((r: Config) => (r.webhook_configs ?? []).map((w: Config) => w.url)).filter(Boolean);
    expect(urls.length).toBeGreaterThan(0);
    for (const u of urls) expect(reachable(u), u).toBeUndefined();
  });

  it('runs the SIEM webhook stand-in it mounts, which answers POSTs and logs them', async () => {
    const svc = services['siem-ingest']!;
    const script = hostPath(svc, svc.command.at(-1));
    expect(script && statSync(script).isFile()).toBe(true);
    const child = spawn(process.execPath, [script!], { env: { ...process.env, PORT: '0', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const port = await new Promise<number>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`no listening line: ${out}`)), 10_000);
        child.stdout.on('data', () => {
          const m = /listening on [^:]+:(\d+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            res(Number(m[1]));
          }
        });
      });
      const notification = { receiver: 'siem', status: 'firing', alerts: [{ status: 'firing', labels: { alertname: 'LlmGovernorBreakerOpen', severity: 'critical' } }] };
      const posted = await fetch(`http://127.0.0.1:${port}/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(notification) });
      expect(posted.status).toBe(204);
      const received = (await (await fetch(`http://127.0.0.1:${port}/received`)).json()) as { path: string; body: unknown }[];
      expect(received).toEqual([expect.objectContaining({ path: '/alertmanager', body: notification })]);
      expect(out).toContain('LlmGovernorBreakerOpen');
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
