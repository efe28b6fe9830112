import { L, BUDGET_LEGEND, PROVIDER_MODEL, type DashboardSpec, barGaugePanel, fractionSteps, gaugePanel, sel, statPanel, sumIncrease, sumRate, tablePanel, timeseriesPanel } from './lib';

const COST = 'llm_governor_cost_total';
const BUDGET_BY = `max by (${L.BUDGET}, ${L.BUDGET_KEY})`;

/** A budget gauge, one series per budget (and `per:` value): the highest value any process reports. */
const budget = (metric: string) => `${BUDGET_BY} (${sel(metric)})`;

/** USD per hour from the cost counter. */
const perHour = (by: string[] = []) => `${sumRate(sel(COST), by)} * 3600`;

const UTILIZATION_STEPS = fractionSteps(0.5, 0.8, 1);

export const spend: DashboardSpec = {
  file: 'llm-governor-spend',
  uid: 'llm-governor-spend',
  title: 'llm-governor / Spend and budgets',
  description: 'What LLM calls cost, in USD from the provider usage and the price table, and where each budget stands.',
  from: 'now/d',
  rows: [
    {
      title: 'Overview',
      panels: [
        statPanel({
          title: 'Spend in range',
          description: 'USD spent on calls over the selected time range (the default range is today, UTC, like daily budgets).',
          queries: [{ expr: sumIncrease(sel(COST)), instant: true }],
          unit: 'currencyUSD',
          decimals: 2,
          w: 6,
          h: 5,
        }),
        statPanel({
          title: 'Spend in the last hour',
          description: 'USD spent over the last hour: the current burn rate, in USD per hour.',
          queries: [{ expr: sumIncrease(sel(COST), [], '1h'), instant: true }],
          unit: 'currencyUSD',
          decimals: 2,
          w: 6,
          h: 5,
        }),
        statPanel({
          title: 'Cache savings in range',
          description: 'USD the response cache avoided over the selected time range (what the cached answers would have cost).',
          queries: [{ expr: sumIncrease(sel('llm_governor_cache_saved_total')), instant: true }],
          unit: 'currencyUSD',
          decimals: 2,
          w: 6,
          h: 5,
        }),
        statPanel({
          title: 'Calls rejected in range',
          description: 'Calls refused before anything was sent upstream (budgets, open breakers, rate limits, moderation) over the selected time range.',
          queries: [{ expr: sumIncrease(sel('llm_governor_requests_rejected_total')), instant: true }],
          unit: 'short',
          decimals: 0,
          w: 6,
          h: 5,
        }),
      ],
    },
    {
      title: 'Budgets',
      panels: [
        gaugePanel({
          title: 'Budget utilization',
          description: 'Spent / limit of each budget in its current window (per `per:` value for split budgets). Yellow from 50%, orange from 80%, red at the limit.',
          queries: [{ expr: budget('llm_governor_budget_utilization'), legend: BUDGET_LEGEND, instant: true }],
          unit: 'percentunit',
          min: 0,
          max: 1,
          thresholds: UTILIZATION_STEPS,
          w: 8,
          h: 8,
        }),
        tablePanel({
          title: 'Budgets now',
          description:
            "Each budget in its current window: spent, held by calls in flight, limit, utilization, projected spend at the window's end (linear over the elapsed window, as the process computes it), and time until the window resets (0 for rolling windows).",
          queries: [
            { expr: budget('llm_governor_budget_spent'), instant: true, table: true },
            { expr: budget('llm_governor_budget_reserved'), instant: true, table: true },
            { expr: budget('llm_governor_budget_limit'), instant: true, table: true },
            { expr: budget('llm_governor_budget_utilization'), instant: true, table: true },
            { expr: budget('llm_governor_budget_forecast_usd'), instant: true, table: true },
            { expr: budget('llm_governor_budget_window_remaining'), instant: true, table: true },
          ],
          labels: [
            { label: L.BUDGET, title: 'Budget' },
            { label: L.BUDGET_KEY, title: 'Value' },
          ],
          columns: [
            { refId: 'A', title: 'Spent', unit: 'currencyUSD' },
            { refId: 'B', title: 'Reserved', unit: 'currencyUSD' },
            { refId: 'C', title: 'Limit', unit: 'currencyUSD' },
            { refId: 'D', title: 'Utilization', unit: 'percentunit' },
            { refId: 'E', title: 'Projected at window end', unit: 'currencyUSD' },
            { refId: 'F', title: 'Window resets in', unit: 's' },
          ],
          unit: 'short',
          w: 16,
          h: 8,
        }),
        timeseriesPanel({
          title: 'Spend against each budget',
          description: 'Spent in the current window (solid) against the limit (dashed), per budget. Spent drops back to 0 when a calendar window resets.',
          queries: [
            { expr: budget('llm_governor_budget_spent'), legend: `${BUDGET_LEGEND} spent` },
            { expr: budget('llm_governor_budget_limit'), legend: `${BUDGET_LEGEND} limit` },
          ],
          dashed: ['B'],
          unit: 'currencyUSD',
          min: 0,
          w: 12,
          h: 9,
        }),
        timeseriesPanel({
          title: 'Forecast: spent, projected and limit',
          description:
            "Per budget: spent in the current window (solid), the spend projected at the window's end at the rate so far (`llm_governor_budget_forecast_usd`, linear over the elapsed window; a rolling window's projection is its spend) and the limit, both dashed. A projection over the limit means the budget will act before its window resets; `forecast_alert` audits the crossing once per window.",
          queries: [
            { expr: budget('llm_governor_budget_spent'), legend: `${BUDGET_LEGEND} spent` },
            { expr: budget('llm_governor_budget_forecast_usd'), legend: `${BUDGET_LEGEND} projected` },
            { expr: budget('llm_governor_budget_limit'), legend: `${BUDGET_LEGEND} limit` },
          ],
          dashed: ['B', 'C'],
          unit: 'currencyUSD',
          min: 0,
          w: 12,
          h: 9,
        }),
      ],
    },
    {
      title: 'Spend',
      panels: [
        timeseriesPanel({
          title: 'Burn rate (USD/hour)',
          description: 'Spend rate of the selected services, in USD per hour.',
          queries: [{ expr: perHour(), legend: 'USD/hour' }],
          unit: 'currencyUSD',
          min: 0,
          w: 12,
          h: 8,
        }),
        timeseriesPanel({
          title: 'Spend by provider (USD/hour)',
          description: 'Spend rate by the provider that served the call (the backup after a fallback), in USD per hour.',
          queries: [{ expr: perHour([L.PROVIDER]), legend: `{{${L.PROVIDER}}}` }],
          unit: 'currencyUSD',
          min: 0,
          stack: true,
          w: 12,
          h: 8,
        }),
        timeseriesPanel({
          title: 'Spend by model (USD/hour)',
          description: 'Spend rate by provider and model that served the call (after a downgrade or fallback, the model that served), in USD per hour.',
          queries: [{ expr: perHour([L.PROVIDER, L.MODEL]), legend: PROVIDER_MODEL }],
          unit: 'currencyUSD',
          min: 0,
          stack: true,
          w: 12,
          h: 8,
        }),
        timeseriesPanel({
          title: 'Spend by tenant (USD/hour)',
          description: 'Spend rate by tenant (`withAttributes`, baggage `tenant.id`), in USD per hour. Past `label_limit` tenants are counted as `other`; calls without a tenant show as `(none)`.',
          queries: [{ expr: `label_replace(${perHour([L.TENANT])}, "${L.TENANT}", "(none)", "${L.TENANT}", "")`, legend: `{{${L.TENANT}}}` }],
          unit: 'currencyUSD',
          min: 0,
          stack: true,
          w: 12,
          h: 8,
        }),
        barGaugePanel({
          title: 'Spend by model in range',
          description: 'USD spent per provider and model over the selected time range, largest first.',
          queries: [{ expr: `sort_desc(${sumIncrease(sel(COST), [L.PROVIDER, L.MODEL])})`, legend: PROVIDER_MODEL, instant: true }],
          unit: 'currencyUSD',
          decimals: 2,
          min: 0,
          w: 12,
          h: 8,
        }),
        barGaugePanel({
          title: 'Spend by tenant in range',
          description: 'USD spent per tenant over the selected time range, largest first; calls without a tenant show as `(none)`.',
          queries: [{ expr: `sort_desc(label_replace(${sumIncrease(sel(COST), [L.TENANT])}, "${L.TENANT}", "(none)", "${L.TENANT}", ""))`, legend: `{{${L.TENANT}}}`, instant: true }],
          unit: 'currencyUSD',
          decimals: 2,
          min: 0,
          w: 12,
          h: 8,
        }),
      ],
    },
    {
      title: 'Rejections and cache',
      panels: [
        timeseriesPanel({
          title: 'Rejected calls by reason',
          description: 'Calls refused before anything was sent upstream, by reason (`budget`, `budget_unavailable`, `circuit_open`, `rate_limited`, `content`) and, for budget refusals, the budget.',
          queries: [{ expr: sumRate(sel('llm_governor_requests_rejected_total'), [L.REASON, L.BUDGET]), legend: `{{${L.REASON}}} {{${L.BUDGET}}}` }],
          unit: 'reqps',
          min: 0,
          stack: true,
          w: 12,
          h: 8,
        }),
        timeseriesPanel({
          title: 'Cache savings (USD/hour)',
          description: 'What the answers served from the response cache would have cost, in USD per hour.',
          queries: [{ expr: `${sumRate(sel('llm_governor_cache_saved_total'))} * 3600`, legend: 'saved USD/hour' }],
          unit: 'currencyUSD',
          min: 0,
          w: 6,
          h: 8,
        }),
        timeseriesPanel({
          title: 'Cache hit ratio',
          description: 'Share of response-cache lookups answered from the cache.',
          queries: [{ expr: `(${sumRate(sel('llm_governor_cache_requests_total', `${L.RESULT}="hit"`))} or vector(0)) / ${sumRate(sel('llm_governor_cache_requests_total'))}`, legend: 'hit ratio' }],
          unit: 'percentunit',
          min: 0,
          max: 1,
          w: 6,
          h: 8,
        }),
      ],
    },
  ],
};
