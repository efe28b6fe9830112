/**
 * `npm run demo`: runs the sample app (demo/app.mjs, plain openai SDK code) under the preload
 * against the embedded simulator, and shows what its own /metrics endpoint says, live.
 *   --serve             keep running until Ctrl-C (the fault window then repeats every 5 minutes)
 *   --seconds N         how long the app sends traffic (default 25)
 *   --fault-at N        when the Azure fault window opens, in seconds (default 30% of --seconds)
 *   --fault-seconds N   how long it lasts (default 30% of --seconds)
 * Environment: DEMO_METRICS_PORT (default 9464, or the next free one), DEMO_METRICS_HOST (default
 * 127.0.0.1; 0.0.0.0 in a container that Prometheus scrapes from outside).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { startSimulator } from '../simulator/index';
import { readAudit } from './audit';
import { demoBudgets, demoResilience, FORECAST_BUDGET, sizeForecastBudget } from './config';
import { LimitPush } from './limit-push';
import { pickPort } from './ports';
import { startDemoRedis } from './redis';
import {
  budgetsFromScrape,
  configVersionFromScrape,
  progressBar,
  renderBudgets,
  renderResilience,
  renderTable,
  resilienceFromScrape,
  rowsFromScrape,
  type BudgetBar,
  type Resilience,
  type Row,
} from './view';

const REPO = resolve(__dirname, '../..');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function scrape(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const serve = process.argv.includes('--serve');
  const seconds = Number(arg('--seconds') ?? 25);
  const faultAt = Number(arg('--fault-at') ?? seconds * 0.3);
  const faultSeconds = Number(arg('--fault-seconds') ?? seconds * 0.3);
  const metricsHost = process.env.DEMO_METRICS_HOST ?? '127.0.0.1';
  const tty = process.stdout.isTTY;
  const sim = await startSimulator({ seed: 7, latencyMs: 60, chunkDelayMs: 8 });
  const metricsPort = await pickPort(Number(process.env.DEMO_METRICS_PORT ?? 9464));
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;

  const configDir = mkdtempSync(resolve(tmpdir(), 'llm-governor-demo-'));
  // The config file in a folder of its own: the app watches the folder, and the audit file beside it would keep it busy.
  mkdirSync(resolve(configDir, 'config'));
  const configFile = resolve(configDir, 'config/llm-governor.yaml');
  // The forecast budget is sized to cross a quarter into the run; the push comes after half-way.
  const forecastBudget = sizeForecastBudget(Date.now(), seconds * 0.25);
  const configText = (limitUsd: number) => demoResilience(sim.openaiBaseURL) + demoBudgets({ limitUsd, timezone: forecastBudget.timezone });
  writeFileSync(configFile, configText(forecastBudget.limitUsd));
  // With the user's own LLM_GOVERNOR_CONFIG there is no forecast budget to push a limit for.
  const ownConfig = process.env.LLM_GOVERNOR_CONFIG !== undefined;
  const redis = ownConfig ? undefined : await startDemoRedis();
  const limitPush = ownConfig
    ? undefined
    : new LimitPush({ cli: resolve(REPO, 'dist/cli/main.js'), configFile, configText, limitUsd: forecastBudget.limitUsd, seconds, ...(redis ? { redisUrl: redis.url } : {}) });
  const auditFile = process.env.LLM_GOVERNOR_AUDIT_FILE ?? resolve(configDir, 'audit.jsonl');
  const started = Date.now();
  const app = spawn(process.execPath, ['--import', resolve(REPO, 'dist/register.mjs'), resolve(REPO, 'demo/app.mjs')], {
    cwd: REPO,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env,
      OPENAI_API_KEY: 'sk-demo-not-a-real-key-000000000000',
      DEMO_OPENAI_BASE_URL: sim.openaiBaseURL,
      AZURE_OPENAI_API_KEY: 'demo-azure-key-000000000000',
      AZURE_OPENAI_ENDPOINT: sim.azureEndpoint,
      OPENAI_API_VERSION: '2024-10-21',
      XAI_API_KEY: 'xai-demo-not-a-real-key-000000000000',
      XAI_API_ENDPOINT: sim.xaiBaseURL,
      OTEL_SERVICE_NAME: process.env.OTEL_SERVICE_NAME ?? 'llm-governor-demo',
      OTEL_TRACES_EXPORTER: process.env.OTEL_TRACES_EXPORTER ?? 'none',
      OTEL_LOGS_EXPORTER: process.env.OTEL_LOGS_EXPORTER ?? 'none',
      OTEL_EXPORTER_PROMETHEUS_HOST: metricsHost,
      OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
      LLM_GOVERNOR_CONFIG: process.env.LLM_GOVERNOR_CONFIG ?? configFile,
      LLM_GOVERNOR_AUDIT_FILE: auditFile,
      ...(redis ? { LLM_GOVERNOR_REDIS_URL: redis.url } : {}),
      DEMO_SECONDS: String(seconds),
      DEMO_FOREVER: serve ? '1' : '0',
    },
  });

  let appSummary: { ok: number; failed: number } | undefined;
  let ready = false;
  let out = '';
  app.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (const line of out.split('\n').slice(0, -1)) {
      if (line.startsWith('{')) {
        try {
          appSummary = JSON.parse(line);
        } catch {
          /* not ours */
        }
      }
      if (line === 'READY') ready = true;
    }
    out = out.slice(out.lastIndexOf('\n') + 1);
  });
  // The preload's log lines (threshold crossings, warnings) become the view's event list.
  const events: string[] = [];
  let err = '';
  app.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    const lines = err.split('\n');
    err = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('llm-governor:')) {
        events.push(line.replace(/^llm-governor: /, ''));
        limitPush?.onLog(line.replace(/^llm-governor: /, ''), (Date.now() - started) / 1000);
      } else if (line.trim()) process.stderr.write(line + '\n');
    }
  });
  const exited = new Promise<number>((r) => app.on('close', (code) => r(code ?? 1)));

  console.log(`llm-governor demo: sample app under the preload → simulator at ${sim.url}`);
  console.log(`metrics: ${metricsUrl}${serve ? '  (--serve: Ctrl-C to stop)' : ''}`);
  if (limitPush) {
    console.log(
      `forecast budget "${FORECAST_BUDGET}": $${forecastBudget.limitUsd} a day in ${forecastBudget.timezone} (${forecastBudget.localTime} there, ${Math.round(forecastBudget.elapsed * 100)}% of the day gone), forecast alert at 90%`,
    );
    console.log(
      redis
        ? `config push: through a private Redis at ${redis.url} (llm-governor config push)`
        : 'config push: no redis-server on PATH, so the fleet push (which needs Redis) is replaced by rewriting the config file, which the app watches',
    );
  }
  console.log('');
  let rows: Row[] = [];
  let bars: BudgetBar[] = [];
  let resilience: Resilience = { breakers: [], fallbacks: 0, retries: 0 };
  // The fault window: Azure answers 500 from 30% to 60% of the run (by default); with --serve, again every 5 minutes.
  const faultTimers: NodeJS.Timeout[] = [];
  const faultWindow = (at: number) => {
    faultTimers.push(
      setTimeout(() => {
        sim.setFaults([{ kind: '500', match: { provider: 'azure' } }]);
        events.push('fault window: the Azure endpoint answers 500 from now on');
      }, at * 1000),
      setTimeout(
        () => {
          sim.setFaults([]);
          events.push('fault window over: Azure answers again');
          if (serve) faultWindow(300 - faultSeconds);
        },
        (at + faultSeconds) * 1000,
      ),
    );
  };
  faultWindow(faultAt);
  let lastPrint = 0;
  const render = (final: boolean) => {
    const elapsed = (Date.now() - started) / 1000;
    const calls = rows.reduce((a, r) => a + r.calls, 0);
    const errors = rows.reduce((a, r) => a + r.errors, 0);
    const tin = rows.reduce((a, r) => a + r.inputTokens, 0);
    const tout = rows.reduce((a, r) => a + r.outputTokens, 0);
    const spend = rows.reduce((a, r) => a + r.costUsd, 0);
    const head = `${serve ? `${Math.round(elapsed)} s` : progressBar(elapsed / seconds)}  calls ${calls}  errors ${errors}  tokens ${tin} in / ${tout} out  spend $${spend.toFixed(4)}`;
    const recent = events
      .slice(-5)
      .map((e) => `  • ${e}`)
      .join('\n');
    const body = `${renderTable(rows)}\n\nbudgets\n${renderBudgets(bars)}\n\nresilience\n${renderResilience(resilience)}\n\nevents\n${recent || '  (none yet)'}`;
    if (tty && !final) {
      process.stdout.write(`\x1b[s\x1b[J${head}\n\n${body}\n\x1b[u`);
    } else if (final || Date.now() - lastPrint > 5000) {
      lastPrint = Date.now();
      console.log(final ? `\n${head}\n\n${body}\n` : head);
    }
  };

  let stopping = false;
  process.on('SIGINT', () => {
    stopping = true;
  });
  let configVersion: string | undefined;
  const watchPush = async (text: string) => {
    if (!limitPush) return;
    const elapsed = (Date.now() - started) / 1000;
    const bar = bars.find((b) => b.budget === FORECAST_BUDGET);
    if (bar && limitPush.due(elapsed)) events.push(await limitPush.push(bar.spentUsd, bar.rejected, elapsed));
    const applied = limitPush.pushed && limitPush.onReloads(readAudit(auditFile).reloads);
    if (applied) events.push(applied);
    configVersion = configVersionFromScrape(text) ?? configVersion;
  };
  while (!ready && !stopping) {
    await new Promise((r) => setTimeout(r, 1000));
    const text = await scrape(metricsUrl);
    if (text) {
      rows = rowsFromScrape(text);
      bars = budgetsFromScrape(text);
      resilience = resilienceFromScrape(text);
      await watchPush(text);
    }
    render(false);
    if (app.exitCode !== null) break;
  }
  const finalText = await scrape(metricsUrl);
  for (const t of faultTimers) clearTimeout(t);
  if (finalText) {
    rows = rowsFromScrape(finalText);
    bars = budgetsFromScrape(finalText);
    resilience = resilienceFromScrape(finalText);
    await watchPush(finalText);
  }
  app.stdin.end();
  if (stopping) app.kill('SIGTERM');
  const code = await exited;
  await sim.close();
  await redis?.stop();

  if (tty) process.stdout.write('\x1b[J');
  render(true);
  const providers = new Set(rows.filter((r) => r.calls > 0).map((r) => r.provider));
  const calls = rows.reduce((a, r) => a + r.calls, 0);
  console.log(
    `summary: ${calls} calls recorded by /metrics over ${providers.size} providers (${[...providers].join(', ')}); app saw ${appSummary?.ok ?? '?'} ok, ${appSummary?.failed ?? '?'} failed; app exit code ${code}`,
  );
  const blocked = bars.reduce((a, b) => a + b.rejected, 0);
  const crossings = bars.reduce((a, b) => a + b.crossings, 0);
  console.log(`budgets: ${crossings} threshold crossing(s), ${blocked} call(s) blocked before reaching the provider`);
  const opened = resilience.breakers.reduce((a, b) => a + b.opened, 0);
  const stillOpen = resilience.breakers.filter((b) => b.state !== 'closed').length;
  console.log(
    `resilience: breaker opened ${opened} time(s) in the fault window, ${stillOpen ? `${stillOpen} not yet closed` : 'all closed again'}; ${resilience.fallbacks} call(s) served by the fallback; ${resilience.retries} retr${resilience.retries === 1 ? 'y' : 'ies'}`,
  );
  const recovered = stopping || (opened > 0 && stillOpen === 0 && resilience.fallbacks > 0);
  const audit = readAudit(auditFile);
  const byKind = Object.entries(audit.kinds)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  console.log(`audit: ${audit.valid} OCSF 6003 events in ${auditFile} (${byKind})${audit.invalid ? `; ${audit.invalid} INVALID` : ''}`);
  // One call event per call the app made, each valid.
  const callEvents = (audit.kinds.call_completed ?? 0) + (audit.kinds.call_failed ?? 0);
  const audited = audit.invalid === 0 && (stopping || !appSummary || callEvents === appSummary.ok + appSummary.failed);
  const pushReport = limitPush?.report({ rejected: bars.find((b) => b.budget === FORECAST_BUDGET)?.rejected ?? 0, ...(configVersion ? { configVersion } : {}) });
  for (const line of pushReport?.lines ?? []) console.log(line);
  const pushed = stopping || !pushReport?.problem;
  const healthy = (code === 0 || stopping) && recovered && audited && pushed && (stopping || ['openai', 'azure.ai.openai', 'x_ai'].every((p) => providers.has(p)));
  if (!healthy)
    console.log(
      `demo: FAILED (expected calls from all three providers, a breaker that opened and closed again, fallbacks, one valid audit event per call, a forecast crossing and a limit push applied, and a clean exit)${pushReport?.problem ? `: ${pushReport.problem}` : ''}`,
    );
  return healthy ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error('demo failed:', err);
    process.exit(1);
  },
);
