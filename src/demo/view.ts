import { histogramQuantile, histogramSeries, parsePrometheusText, type Sample } from '../util/prometheus-text';

export interface Row {
  provider: string;
  model: string;
  calls: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  p95Seconds?: number;
  ttfcP95Seconds?: number;
  costUsd: number;
}

export interface BudgetBar {
  budget: string;
  limitUsd: number;
  spentUsd: number;
  rejected: number;
  crossings: number;
  /** Spend projected at the window's end (llm_governor_budget_forecast_usd). */
  forecastUsd?: number;
}

/** Budget gauges, rejections and threshold crossings from the scrape. */
export function budgetsFromScrape(text: string): BudgetBar[] {
  const bars = new Map<string, BudgetBar>();
  const bar = (name: string) => {
    let b = bars.get(name);
    if (!b) bars.set(name, (b = { budget: name, limitUsd: 0, spentUsd: 0, rejected: 0, crossings: 0 }));
    return b;
  };
  for (const s of parsePrometheusText(text)) {
    const name = s.labels.llm_governor_budget;
    if (!name) continue;
    if (s.name === 'llm_governor_budget_limit') bar(name).limitUsd = s.value;
    else if (s.name === 'llm_governor_budget_spent') bar(name).spentUsd = s.value;
    else if (s.name === 'llm_governor_requests_rejected_total') bar(name).rejected += s.value;
    else if (s.name === 'llm_governor_budget_threshold_crossings_total') bar(name).crossings += s.value;
    else if (s.name === 'llm_governor_budget_forecast_usd') bar(name).forecastUsd = s.value;
  }
  return [...bars.values()].filter((b) => b.limitUsd > 0);
}

export function renderBudgets(bars: BudgetBar[]): string {
  const width = Math.max(16, ...bars.map((b) => b.budget.length));
  return bars
    .map((b) => {
      const f = b.spentUsd / b.limitUsd;
      return `${b.budget.padEnd(width)} ${progressBar(f, 24)}  $${b.spentUsd.toFixed(4)} of $${b.limitUsd}  crossings ${b.crossings}  blocked ${b.rejected}${b.forecastUsd === undefined ? '' : `  forecast $${b.forecastUsd.toFixed(4)}`}`;
    })
    .join('\n');
}

const key = (l: Record<string, string>) => `${l.gen_ai_provider_name}\u0000${l.gen_ai_request_model}`;

/** Per provider and model, from the app's own Prometheus scrape. */
export function rowsFromScrape(text: string): Row[] {
  const samples: Sample[] = parsePrometheusText(text);
  const rows = new Map<string, Row>();
  const row = (l: Record<string, string>) => {
    const k = key(l);
    let r = rows.get(k);
    if (!r) rows.set(k, (r = { provider: l.gen_ai_provider_name ?? '?', model: l.gen_ai_request_model ?? '?', calls: 0, errors: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 }));
    return r;
  };
  for (const s of samples) {
    if (s.name === 'gen_ai_client_operation_duration_seconds_count' || s.name === 'gen_ai_client_operation_duration_count') {
      const r = row(s.labels);
      r.calls += s.value;
      if (s.labels.error_type) r.errors += s.value;
    } else if (s.name === 'llm_governor_cost_total') {
      row(s.labels).costUsd += s.value;
    } else if (s.name === 'gen_ai_client_token_usage_sum') {
      const r = row(s.labels);
      if (s.labels.gen_ai_token_type === 'input') r.inputTokens += s.value;
      else r.outputTokens += s.value;
    }
  }
  for (const [k, h] of histogramSeries(samples, 'gen_ai_client_operation_duration', key)) {
    const r = rows.get(k);
    if (r) r.p95Seconds = histogramQuantile(0.95, h.buckets);
  }
  for (const [k, h] of histogramSeries(samples, 'gen_ai_client_operation_time_to_first_chunk', key)) {
    const r = rows.get(k);
    if (r) r.ttfcP95Seconds = histogramQuantile(0.95, h.buckets);
  }
  return [...rows.values()].sort((a, b) => a.provider.localeCompare(b.provider) || a.model.localeCompare(b.model));
}

const ms = (s?: number) => (s === undefined ? '-' : `${Math.round(s * 1000)} ms`);

export function renderTable(rows: Row[]): string {
  const header = ['provider', 'model', 'calls', 'errors', 'tokens in', 'tokens out', 'spend $', 'p95', 'p95 first chunk'];
  const body = rows.map((r) => [r.provider, r.model, String(r.calls), String(r.errors), String(r.inputTokens), String(r.outputTokens), r.costUsd.toFixed(5), ms(r.p95Seconds), ms(r.ttfcP95Seconds)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function progressBar(fraction: number, width = 30): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return `[${'█'.repeat(full)}${'░'.repeat(width - full)}] ${Math.round(f * 100)}%`;
}

export interface Resilience {
  /** Breaker per provider/model: its state now, and how often it opened. */
  breakers: { name: string; state: 'closed' | 'half-open' | 'open'; opened: number }[];
  fallbacks: number;
  retries: number;
}

const STATE_NAMES = ['closed', 'half-open', 'open'] as const;

/** Breaker states, fallbacks and retries from the scrape. */
export function resilienceFromScrape(text: string): Resilience {
  const breakers = new Map<string, Resilience['breakers'][number]>();
  const breaker = (l: Record<string, string>) => {
    const name = `${l.gen_ai_provider_name} ${l.gen_ai_request_model}`;
    let b = breakers.get(name);
    if (!b) breakers.set(name, (b = { name, state: 'closed', opened: 0 }));
    return b;
  };
  let fallbacks = 0;
  let retries = 0;
  for (const s of parsePrometheusText(text)) {
    if (s.name === 'llm_governor_breaker_state') breaker(s.labels).state = STATE_NAMES[s.value] ?? 'closed';
    else if (s.name === 'llm_governor_breaker_transitions_total' && s.labels.to === 'open') breaker(s.labels).opened += s.value;
    else if (s.name === 'llm_governor_fallbacks_total') fallbacks += s.value;
    else if (s.name === 'llm_governor_retries_total') retries += s.value;
  }
  return { breakers: [...breakers.values()].filter((b) => b.opened > 0 || b.state !== 'closed'), fallbacks, retries };
}

export function renderResilience(r: Resilience): string {
  const lines = r.breakers.map((b) => `  breaker ${b.name.padEnd(28)} ${b.state.padEnd(9)} opened ${b.opened}×`);
  lines.push(`  fallbacks ${r.fallbacks}  retries ${r.retries}`);
  return lines.join('\n');
}

/**
 * The version of the config in force (llm_governor_config_info), if the scrape has it: the
 * highest fleet version listed (the series of the config it replaced may linger beside it).
 */
export function configVersionFromScrape(text: string): string | undefined {
  const versions = parsePrometheusText(text)
    .filter((s) => s.name === 'llm_governor_config_info')
    .map((s) => s.labels.version ?? 'local');
  const fleet = versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  return fleet[0] ?? versions[0];
}
