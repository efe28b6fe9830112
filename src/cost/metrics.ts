import type { Attributes, Counter, Meter } from '@opentelemetry/api';
import { ATTR, FORECAST_CROSSING, GOVERNOR_METRIC, REJECT_REASON } from '../semconv';
import { BoundedLabels, type FoldedLabel } from '../util/bounded-labels';
import { restoreSeries, withdrawSeries } from '../util/withdrawn-series';
import type { BudgetDefinition } from './budgets';
import { budgetForecast } from './forecast';
import { picoToUsd, type Pico } from './money';
import type { BudgetKey, BudgetState } from './stores/types';

interface Snapshot {
  def: BudgetDefinition;
  value?: string;
  limit: Pico;
  state: BudgetState;
  windowEndMs: number;
  rolling: boolean;
}

/** The gauges of one budget: a budget a reload removed is withdrawn from all of them. */
const BUDGET_GAUGES = [
  GOVERNOR_METRIC.BUDGET_LIMIT,
  GOVERNOR_METRIC.BUDGET_SPENT,
  GOVERNOR_METRIC.BUDGET_RESERVED,
  GOVERNOR_METRIC.BUDGET_UTILIZATION,
  GOVERNOR_METRIC.BUDGET_WINDOW_REMAINING,
  GOVERNOR_METRIC.BUDGET_FORECAST,
  GOVERNOR_METRIC.BUDGET_EXHAUSTION,
];

/**
 * Cost and budget instruments. Budget gauges read the last state this process saw of each
 * budget (and, for `per:` budgets, of its first `label_limit` values); a shared store's state is
 * refreshed by the governor.
 */
export class CostMetrics {
  private readonly cost: Counter;
  private readonly unknown: Counter;
  private readonly suspicious: Counter;
  private readonly rejected: Counter;
  private readonly crossings: Counter;
  private readonly exceededAllowed: Counter;
  private readonly storeErrors: Counter;
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly perValues = new Map<string, BoundedLabels>();
  private storeAvailable = 1;
  /** The budgets in force, by name, once a governor said (`retain`). */
  private inForce?: Map<string, BudgetDefinition>;
  readonly tenants: BoundedLabels;
  readonly users: BoundedLabels;
  readonly features: BoundedLabels;

  constructor(
    meter: Meter,
    private readonly labelLimit: number,
    private readonly now: () => number,
    private readonly onFold: (label: FoldedLabel) => void = () => undefined,
  ) {
    this.tenants = new BoundedLabels(labelLimit, 128, () => onFold('tenant'));
    this.users = new BoundedLabels(labelLimit, 128, () => onFold('user'));
    this.features = new BoundedLabels(labelLimit, 128, () => onFold('feature'));
    this.cost = meter.createCounter(GOVERNOR_METRIC.COST, { description: 'Cost of LLM calls, from the provider usage and the price table', unit: 'USD' });
    this.unknown = meter.createCounter(GOVERNOR_METRIC.PRICING_UNKNOWN, { description: "Calls to a model with no known price (priced as the provider's most expensive model)" });
    this.suspicious = meter.createCounter(GOVERNOR_METRIC.USAGE_SUSPICIOUS, { description: 'Calls whose reported usage could not be true (priced at their worst case instead)' });
    this.rejected = meter.createCounter(GOVERNOR_METRIC.REQUESTS_REJECTED, { description: 'Calls refused before anything was sent upstream' });
    this.crossings = meter.createCounter(GOVERNOR_METRIC.BUDGET_THRESHOLD_CROSSINGS, { description: 'Budget soft thresholds crossed, once per window' });
    this.exceededAllowed = meter.createCounter(GOVERNOR_METRIC.BUDGET_EXCEEDED_ALLOWED, {
      description: 'Calls an alert_only budget let through whose cost landed over its limit (or that went while the limit was already reached)',
    });
    this.storeErrors = meter.createCounter(GOVERNOR_METRIC.BUDGET_STORE_ERRORS, { description: 'Budget store operations that failed (store unreachable)' });

    const gauge = (name: string, description: string, unit: string, read: (s: Snapshot) => number) => {
      meter.createObservableGauge(name, { description, unit }).addCallback((result) => {
        for (const s of this.snapshots.values()) result.observe(read(s), this.budgetAttributes(s));
      });
    };
    gauge(GOVERNOR_METRIC.BUDGET_LIMIT, 'Budget limit', 'USD', (s) => picoToUsd(s.limit));
    gauge(GOVERNOR_METRIC.BUDGET_SPENT, 'Spent in the current window', 'USD', (s) => picoToUsd(s.state.spent));
    gauge(GOVERNOR_METRIC.BUDGET_RESERVED, 'Held by calls in flight', 'USD', (s) => picoToUsd(s.state.reserved));
    gauge(GOVERNOR_METRIC.BUDGET_UTILIZATION, 'Spent / limit', '1', (s) => s.state.spent / s.limit);
    gauge(GOVERNOR_METRIC.BUDGET_WINDOW_REMAINING, 'Seconds until the window resets', 's', (s) => (s.rolling ? 0 : Math.max(0, (s.windowEndMs - this.now()) / 1000)));
    gauge(GOVERNOR_METRIC.BUDGET_FORECAST, 'Spend projected at the end of the window, at the rate so far', 'USD', (s) => picoToUsd(this.forecastOf(s).projected));
    meter
      .createObservableGauge(GOVERNOR_METRIC.BUDGET_EXHAUSTION, { description: 'Seconds until the limit is reached at the rate so far (absent: not within this window)', unit: 's' })
      .addCallback((result) => {
        for (const s of this.snapshots.values()) {
          const ms = this.forecastOf(s).exhaustsInMs;
          if (ms !== undefined) result.observe(ms / 1000, this.budgetAttributes(s));
        }
      });
    meter.createObservableGauge(GOVERNOR_METRIC.BUDGET_STORE_AVAILABLE, { description: '1 when the budget store answers, 0 when unreachable' }).addCallback((r) => r.observe(this.storeAvailable));
  }

  private forecastOf(s: Snapshot) {
    return budgetForecast(s.def.window, s.state.spent, s.limit, s.windowEndMs, this.now());
  }

  private budgetAttributes(s: Snapshot): Attributes {
    return s.value !== undefined ? { [ATTR.BUDGET]: s.def.name, [ATTR.BUDGET_KEY]: s.value } : { [ATTR.BUDGET]: s.def.name };
  }

  recordCost(usd: number, attrs: Attributes): void {
    if (usd > 0) this.cost.add(usd, attrs);
  }

  unknownPrice(attrs: Attributes): void {
    this.unknown.add(1, attrs);
  }

  suspiciousUsage(attrs: Attributes): void {
    this.suspicious.add(1, attrs);
  }

  rejectedCall(reason: string, budget?: string): void {
    this.rejected.add(1, budget ? { [ATTR.REJECT_REASON]: reason, [ATTR.BUDGET]: budget } : { [ATTR.REJECT_REASON]: reason });
  }

  budgetRejected(def: BudgetDefinition): void {
    this.rejectedCall(REJECT_REASON.BUDGET, def.name);
  }

  thresholdCrossed(def: BudgetDefinition, threshold: number): void {
    this.crossings.add(1, { [ATTR.BUDGET]: def.name, [ATTR.THRESHOLD]: String(threshold) });
  }

  forecastCrossed(def: BudgetDefinition, fraction: number): void {
    this.crossings.add(1, { [ATTR.BUDGET]: def.name, [ATTR.THRESHOLD]: String(fraction), [ATTR.CROSSING]: FORECAST_CROSSING });
  }

  allowedOver(def: BudgetDefinition): void {
    this.exceededAllowed.add(1, { [ATTR.BUDGET]: def.name });
  }

  storeError(operation: string): void {
    this.storeErrors.add(1, { operation });
  }

  setStoreAvailable(up: boolean): void {
    this.storeAvailable = up ? 1 : 0;
  }

  /** Remembers the latest state of each budget (per value), for the gauges. */
  updateStates(defs: BudgetDefinition[], values: (string | undefined)[], keys: BudgetKey[], states: BudgetState[]): void {
    defs.forEach((seen, i) => {
      const state = states[i];
      // A call a reload left running reports on the budget as it was: shown as the budget is now, if it still is.
      const def = this.inForce ? this.inForce.get(seen.name) : seen;
      if (!state || !def || (def !== seen && !sameWindow(def, seen))) return;
      const value = values[i];
      if (value !== undefined) {
        let bound = this.perValues.get(def.name);
        if (!bound) this.perValues.set(def.name, (bound = new BoundedLabels(this.labelLimit, 128, () => this.onFold('budget_key'))));
        if (bound.label(value) !== value) return; // past the label limit: not exported as a series
      }
      this.snapshots.set(`${def.name}\u0000${value ?? ''}`, { def, value, limit: def === seen ? keys[i].limit : def.limit, state, windowEndMs: keys[i].windowEndMs, rolling: !!keys[i].rolling });
    });
  }

  /** The budgets this process knows, for refreshing from a shared store. */
  known(): { def: BudgetDefinition; value?: string }[] {
    return [...this.snapshots.values()].map((s) => ({ def: s.def, value: s.value }));
  }

  /**
   * After a reload: the series of a budget that is gone, or whose window or `per` changed, are
   * dropped; a budget that stays keeps its state, at its new limit.
   */
  retain(defs: readonly BudgetDefinition[], keyOf: (def: BudgetDefinition) => BudgetKey): void {
    const byName = new Map(defs.map((d) => [d.name, d]));
    this.inForce = byName;
    for (const name of byName.keys()) restoreSeries({ [ATTR.BUDGET]: name });
    for (const [id, s] of this.snapshots) {
      const def = byName.get(s.def.name);
      if (!def || !sameWindow(def, s.def)) {
        this.snapshots.delete(id);
        if (!def) withdrawSeries(BUDGET_GAUGES, { [ATTR.BUDGET]: s.def.name });
        continue;
      }
      s.def = def;
      s.limit = keyOf(def).limit;
    }
    for (const name of this.perValues.keys()) if (byName.get(name)?.per === undefined) this.perValues.delete(name);
  }

  /** Budgets with no state yet still show their limit and zero spend. */
  seed(defs: readonly BudgetDefinition[], keyOf: (def: BudgetDefinition) => BudgetKey): void {
    for (const def of defs) {
      if (def.per) continue;
      const key = keyOf(def);
      const id = `${def.name}\u0000`;
      if (!this.snapshots.has(id)) this.snapshots.set(id, { def, limit: key.limit, state: { spent: 0, reserved: 0 }, windowEndMs: key.windowEndMs, rolling: !!key.rolling });
    }
  }
}

/** The same window and the same `per`: the same store keys, so the same series. */
function sameWindow(a: BudgetDefinition, b: BudgetDefinition): boolean {
  return a.per === b.per && JSON.stringify(a.window) === JSON.stringify(b.window);
}
