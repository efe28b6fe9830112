import { maskUrl } from '../redaction';
import { loadConfig } from '../config/load';
import { budgetsFromConfig } from '../cost/budgets';
import { budgetForecast } from '../cost/forecast';
import { picoToUsd } from '../cost/money';
import { RedisBudgetStore } from '../cost/stores/redis';
import type { WindowSpec } from '../cost/windows';
import { parsePrometheusText } from '../util/prometheus-text';

export interface BudgetRow {
  budget: string;
  key?: string;
  window?: string;
  limitUsd: number;
  spentUsd: number;
  reservedUsd: number;
  resetsAt?: string;
  /** Spend projected at the end of the window (see cost/forecast.ts). */
  projectedUsd?: number;
  /** When the limit would be reached at the rate so far: `now`, an ISO time, or `not this window`. */
  exhaustsAt?: string;
}

const NOT_THIS_WINDOW = 'not this window';

function exhaustsAt(ms: number | undefined, now: number): string {
  return ms === undefined ? NOT_THIS_WINDOW : ms <= 0 ? 'now' : new Date(now + ms).toISOString();
}

/** Rows from the shared Redis store: every budget key of every process; projected for the budgets whose window `windows` knows (by name). */
export async function rowsFromRedis(url: string, now = Date.now(), windows = new Map<string, WindowSpec>()): Promise<BudgetRow[]> {
  const store = new RedisBudgetStore(url);
  try {
    const list = await store.list(now);
    return list.map((k) => {
      const parts = k.id.split('|');
      const [budget, ...rest] = parts;
      const window = rest.length ? rest[rest.length - 1] : undefined;
      const key = rest.length > 1 ? rest.slice(0, -1).join('|') : undefined;
      const spec = windows.get(budget);
      const f = spec ? budgetForecast(spec, k.state.spent, k.limit, k.windowEndMs, now) : undefined;
      return {
        budget,
        key,
        window,
        limitUsd: picoToUsd(k.limit),
        spentUsd: picoToUsd(k.state.spent),
        reservedUsd: picoToUsd(k.state.reserved),
        resetsAt: window === 'rolling' ? 'rolling' : new Date(k.windowEndMs).toISOString(),
        ...(f ? { projectedUsd: picoToUsd(f.projected), exhaustsAt: exhaustsAt(f.exhaustsInMs, now) } : {}),
      };
    });
  } finally {
    await store.close();
  }
}

/** Rows from a running app's Prometheus endpoint (the budgets that process knows). */
export function rowsFromScrape(text: string, now = Date.now()): BudgetRow[] {
  const rows = new Map<string, BudgetRow>();
  for (const s of parsePrometheusText(text)) {
    if (!s.name.startsWith('llm_governor_budget_')) continue;
    const budget = s.labels.llm_governor_budget;
    if (!budget) continue;
    const id = `${budget}\u0000${s.labels.llm_governor_budget_key ?? ''}`;
    let row = rows.get(id);
    if (!row) rows.set(id, (row = { budget, key: s.labels.llm_governor_budget_key, limitUsd: 0, spentUsd: 0, reservedUsd: 0 }));
    if (s.name === 'llm_governor_budget_limit') row.limitUsd = s.value;
    else if (s.name === 'llm_governor_budget_spent') row.spentUsd = s.value;
    else if (s.name === 'llm_governor_budget_reserved') row.reservedUsd = s.value;
    else if (s.name === 'llm_governor_budget_forecast_usd') {
      row.projectedUsd = s.value;
      row.exhaustsAt ??= NOT_THIS_WINDOW;
    } else if (s.name === 'llm_governor_budget_exhaustion_seconds') row.exhaustsAt = exhaustsAt(s.value * 1000, now);
    else if (s.name === 'llm_governor_budget_window_remaining') row.resetsAt = s.value > 0 ? new Date(now + s.value * 1000).toISOString() : 'rolling';
  }
  return [...rows.values()];
}

export function renderBudgets(rows: BudgetRow[]): string {
  if (!rows.length) return 'no budgets found\n';
  const header = ['budget', 'key', 'window', 'limit $', 'spent $', 'reserved $', 'used', 'projected $', 'resets at', 'exhausted at'];
  const body = rows
    .sort((a, b) => a.budget.localeCompare(b.budget) || (a.key ?? '').localeCompare(b.key ?? ''))
    .map((r) => [
      r.budget,
      r.key ?? '',
      r.window ?? '',
      usd(r.limitUsd),
      usd(r.spentUsd),
      usd(r.reservedUsd),
      `${((100 * r.spentUsd) / r.limitUsd).toFixed(1)}%`,
      r.projectedUsd === undefined ? '' : usd(r.projectedUsd),
      r.resetsAt ?? '',
      r.exhaustsAt ?? '',
    ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (c: string[]) =>
    c
      .map((x, i) => (i >= 3 && i <= 7 ? x.padStart(widths[i]) : x.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n') + '\n';
}

function usd(v: number): string {
  return v >= 1 ? v.toFixed(2) : v === 0 ? '0' : v.toPrecision(4);
}

/** `llm-governor budgets [--metrics-url URL]`. */
export async function budgetsCommand(argv: string[], write = (s: string) => process.stdout.write(s)): Promise<number> {
  const i = argv.indexOf('--metrics-url');
  const metricsUrl = i >= 0 ? argv[i + 1] : undefined;
  const { config } = loadConfig();
  if (config.redis_url && !metricsUrl) {
    write(`budgets in ${maskUrl(config.redis_url)}\n\n`);
    const windows = new Map(budgetsFromConfig(config).map((d) => [d.name, d.window]));
    write(renderBudgets(await rowsFromRedis(config.redis_url, Date.now(), windows)));
    return 0;
  }
  const url = metricsUrl ?? `http://${process.env.OTEL_EXPORTER_PROMETHEUS_HOST || '127.0.0.1'}:${process.env.OTEL_EXPORTER_PROMETHEUS_PORT || 9464}/metrics`;
  let text: string;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    text = await res.text();
  } catch (err) {
    write(`cannot read ${url}: ${(err as Error).message}\n(set LLM_GOVERNOR_REDIS_URL for shared budgets, or pass --metrics-url of a running app)\n`);
    return 1;
  }
  write(`budgets of the app at ${url}\n\n`);
  write(renderBudgets(rowsFromScrape(text)));
  return 0;
}
