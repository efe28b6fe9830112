import type { Attribution } from '../attribution';
import type { BudgetConfig, GovernorConfig } from '../config/schema';
import type { OperationName, ProviderName } from '../semconv';
import { usdToPico, type Pico } from './money';
import type { BudgetKey } from './stores/types';
import { currentWindow, parseWindow, rollingBucketMs, warmWindow, type WindowInstance, type WindowSpec } from './windows';

export type BudgetAction = 'block' | 'cap_tokens' | 'alert_only' | { downgrade: string };

/** A budget from the config, compiled for the hot path. */
export interface BudgetDefinition {
  name: string;
  limit: Pico;
  window: WindowSpec;
  thresholds: number[];
  /** Fraction of the limit that the projected spend at the window's end alerts at (once per window). */
  forecastAlert?: number;
  action: BudgetAction;
  per?: 'tenant' | 'user' | 'feature';
  match: ((facts: CallFacts) => boolean)[];
}

/** What a budget can match on. */
export interface CallFacts extends Omit<Attribution, 'userHashed'> {
  provider: ProviderName;
  model?: string;
  operation: OperationName;
}

/** Value of a `per:` dimension when the call has none: such calls share one budget. */
export const UNATTRIBUTED = '_unattributed';

/** `gpt-4o*` → a matcher; `*` and `?` are the only wildcards. */
export function globMatcher(glob: string): (value: string | undefined) => boolean {
  if (!/[*?]/.test(glob)) return (v) => v === glob;
  const re = new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return (v) => v !== undefined && re.test(v);
}

function compile(b: BudgetConfig): BudgetDefinition {
  const match: BudgetDefinition['match'] = [];
  for (const [field, glob] of Object.entries(b.match ?? {})) {
    if (glob === undefined) continue;
    const m = globMatcher(glob);
    match.push((facts) => m(facts[field as keyof CallFacts]));
  }
  return {
    name: b.name,
    limit: usdToPico(b.limit_usd),
    window: parseWindow(b.window, b.timezone),
    thresholds: [...b.thresholds].sort((x, y) => x - y),
    ...(b.forecast_alert !== undefined ? { forecastAlert: b.forecast_alert } : {}),
    action: b.action,
    per: b.per,
    match,
  };
}

/**
 * Every budget in force: the config file's list, plus the environment's daily budget
 * (`LLM_GOVERNOR_DAILY_BUDGET_USD`, soft threshold `LLM_GOVERNOR_ALERT_THRESHOLD_USD`, 80% by default).
 */
export function budgetsFromConfig(config: GovernorConfig): BudgetDefinition[] {
  const list = config.budgets.map(compile);
  if (config.daily_budget_usd !== undefined && !list.some((b) => b.name === 'daily')) {
    const limit = config.daily_budget_usd;
    const alert = config.alert_threshold_usd;
    const threshold = alert !== undefined && alert < limit ? alert / limit : 0.8;
    list.push(compile({ name: 'daily', limit_usd: limit, window: 'day', timezone: 'UTC', thresholds: [threshold], action: 'block' }));
  }
  return list;
}

/** What the budgets' first use would build (their windows' time-zone formatters), built now. */
export function warmBudgets(config: GovernorConfig): void {
  for (const def of budgetsFromConfig(config)) warmWindow(def.window);
}

export function appliesTo(def: BudgetDefinition, facts: CallFacts): boolean {
  for (const m of def.match) if (!m(facts)) return false;
  return true;
}

/** The per-dimension value a call falls under, for `per:` budgets. */
function perValue(def: BudgetDefinition, facts: CallFacts): string | undefined {
  return def.per ? (facts[def.per] ?? UNATTRIBUTED) : undefined;
}

/** The store key of a budget for this call, now. */
export function budgetKey(def: BudgetDefinition, facts: CallFacts, nowMs: number): { key: BudgetKey; window: WindowInstance; value?: string } {
  const window = currentWindow(def.window, nowMs);
  const value = perValue(def, facts);
  const id = [def.name, value, window.id].filter((p) => p !== undefined).join('|');
  const key: BudgetKey = {
    id,
    limit: def.limit,
    windowEndMs: window.endMs,
    mode: def.action === 'alert_only' ? 'force' : 'check',
    ...(def.window.kind === 'rolling' ? { rolling: { durationMs: def.window.durationMs, bucketMs: rollingBucketMs(def.window.durationMs) } } : {}),
  };
  return { key, window, value };
}
