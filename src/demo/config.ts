/**
 * The demo's config file: its resilience settings and budgets. The sample app knows nothing of
 * them: it only sees results and, for blocked calls, an OpenAI.APIError 429.
 */

/**
 * A fallback chain from the Azure gpt-4o deployment to OpenAI gpt-4o, and a breaker that opens
 * after 3 failures and tries again after 3 s. During the fault window (30–60% of the run) the
 * simulator's Azure endpoint answers 500: the breaker opens, the backup serves the Azure calls,
 * and after the window one trial closes the breaker again. A client-side rate limit of 60
 * requests a minute on grok-3-mini makes some of its calls wait (and the odd one give up after
 * 4 s, as a RateLimitExceededError).
 */
export const demoResilience = (openaiBaseURL: string) => `breaker_failures: 3
breaker_reset_seconds: 3
max_retries: 1
fallbacks:
  - primary: { provider: azure.ai.openai, model: gpt-4o }
    backups:
      - { provider: openai, model: gpt-4o, base_url: "${openaiBaseURL}" }
rate_limits:
  - { provider: x_ai, model: grok-3-mini, rpm: 60 }
rate_limit_max_wait_seconds: 4
`;

/** The budget whose forecast crosses, and whose limit the demo's config push changes. */
export const FORECAST_BUDGET = 'gpt-4.1-mini-daily';
/** What the sample app spends on gpt-4.1-mini a second, about (measured: $0.0022 in 25 s). */
const MINI_USD_PER_SECOND = 0.00008;
const FORECAST_ALERT = 0.9;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export interface ForecastBudget {
  limitUsd: number;
  /** An IANA zone where it is 06:xx now, so a day window is about a quarter gone whatever the hour. */
  timezone: string;
  localTime: string;
  /** The share of the day window gone. */
  elapsed: number;
}

/**
 * Sizes the forecast budget so that its linear forecast (spend so far × day / elapsed) crosses 90%
 * of the limit about `crossAtSeconds` into the run, long before the spend itself reaches it.
 */
export function sizeForecastBudget(nowMs: number, crossAtSeconds: number): ForecastBudget {
  const utcHour = new Date(nowMs).getUTCHours();
  let offset = (((6 - utcHour) % 24) + 24) % 24;
  if (offset > 14) offset -= 24;
  // Etc/GMT zones count the other way round: Etc/GMT-5 is UTC+5.
  const timezone = offset === 0 ? 'UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
  const localMs = (nowMs + offset * HOUR_MS) % DAY_MS;
  const elapsed = localMs / DAY_MS;
  const limitUsd = Number(((MINI_USD_PER_SECOND * crossAtSeconds) / (FORECAST_ALERT * elapsed)).toPrecision(2));
  const localTime = new Date(localMs).toISOString().slice(11, 16);
  return { limitUsd, timezone, localTime, elapsed };
}

/**
 * The demo's budgets: a daily budget that crosses its soft thresholds (alert only), an hourly
 * grok-4 budget that blocks, a gpt-4o budget that downgrades to gpt-4o-mini, and the gpt-4.1-mini
 * day budget (blocking) whose forecast crosses and whose limit the config push changes.
 */
export const demoBudgets = (forecast: { limitUsd: number; timezone: string }) => `budgets:
  - name: demo-daily
    limit_usd: 0.08
    window: day
    thresholds: [0.5, 0.8]
    action: alert_only
  - name: grok-4-hourly
    limit_usd: 0.03
    window: 1h
    match: { provider: x_ai, model: "grok-4*" }
    action: block
  - name: gpt-4o-downgrade
    limit_usd: 0.01
    window: day
    match: { provider: openai, model: gpt-4o }
    action: { downgrade: gpt-4o-mini }
  - name: ${FORECAST_BUDGET}
    limit_usd: ${forecast.limitUsd}
    window: day
    timezone: ${forecast.timezone}
    thresholds: [0.8]
    forecast_alert: ${FORECAST_ALERT}
    match: { provider: openai, model: gpt-4.1-mini }
    action: block
`;
