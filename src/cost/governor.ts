import type { WireLabels } from '../util/bounded-labels';
import { suspiciousUsage, type SuspiciousReason } from './usage-check';
import { choicesOf, mediaParts, worstInputTokens } from './worst-input';
import { diag, type Meter } from '@opentelemetry/api';
import { hashUser, type Attribution } from '../attribution';
import { NO_AUDIT, type AuditRecorder } from '../audit/trail';
import type { GovernorConfig } from '../config/schema';
import type { Body, Operation } from '../operations';
import type { CallRecord } from '../operations/record';
import { ATTR, PROVIDER, REJECT_REASON, type ProviderName } from '../semconv';
import { budgetKey, budgetsFromConfig, UNATTRIBUTED, type BudgetDefinition, type CallFacts } from './budgets';
import { BudgetEngine, type Admission, type CallEstimate } from './engine';
import { CostMetrics } from './metrics';
import { picoToUsd, type Pico } from './money';
import { PriceTable, type ModelPrice } from './prices';
import { computeCost, maxOutputTokensWithin, worstCaseCost } from './pricing';
import { createBudgetStore } from './store-factory';
import type { BudgetStore } from './stores/types';
import { estimateInputTokens } from './tokens';

/** The cost of a finished call. */
export interface CallCost {
  pico: Pico;
  /** Tokens or price were estimated (no usage from the provider, or an unknown model). */
  estimated: boolean;
  /** The price-table entry used. */
  priceModel?: string;
  /** The provider's usage could not be true: not believed, the call priced at its worst case. */
  suspicious?: SuspiciousReason;
}

/** What the governor needs to know of a call before it is sent. */
export interface PendingCall {
  op: Operation;
  provider: ProviderName;
  model?: string;
  body: Body;
  attribution: Attribution;
}

/**
 * Cost and budgets for every call: the price table, the budget engine and their metrics, built
 * once from the config. The call lifecycle asks it to `admit` a call before sending (worst-case
 * estimate + reservation) and to `settle` it after (actual cost).
 */
export class Governor {
  readonly prices: PriceTable;
  readonly engine?: BudgetEngine;
  readonly metrics: CostMetrics;
  private readonly lineage: Lineage;

  constructor(
    private readonly config: GovernorConfig,
    meter: Meter,
    private readonly now: () => number = Date.now,
    store?: BudgetStore,
    private readonly audit: AuditRecorder = NO_AUDIT,
    /** Model label values, bounded (a hostile upstream's model names never grow the series); its fold counter counts the attribution labels' folds too. */
    private readonly labels?: WireLabels,
    /**
     * The governor a reload replaces: its store (the spend, the reservations of calls still
     * running) and its gauges carry on; its engine goes on settling the calls it admitted.
     */
    previous?: Governor,
  ) {
    this.prices = Object.keys(config.prices).length ? PriceTable.bundled().withOverrides(config.prices) : PriceTable.bundled();
    this.metrics = previous?.metrics ?? new CostMetrics(meter, config.label_limit, now, labels?.onFold);
    this.lineage = previous?.lineage ?? { engines: new Set(), current: this, warnedUnknown: new Set(), warnedOver: new Set() };
    this.lineage.current = this;
    const defs = budgetsFromConfig(config);
    const keyOf = (def: BudgetDefinition) => budgetKey(def, { provider: PROVIDER.OPENAI, operation: 'chat' }, now()).key;
    // A removed budget's gauges go; one whose name and window stay keeps its series, at its new limit.
    this.metrics.retain(defs, keyOf);
    if (!defs.length) return;
    const lineage = this.lineage;
    const shared = (lineage.store ??= store ?? createBudgetStore(config, (up, err) => lineage.current.onStoreAvailability(up, err)));
    this.engine = new BudgetEngine(defs, shared, {
      now,
      reservationTtlMs: config.reservation_ttl_seconds * 1000,
      failureMode: config.store_failure_mode,
      events: {
        rejected: (def) => this.metrics.budgetRejected(def),
        exceededAllowed: (def, value) => {
          this.metrics.allowedOver(def);
          const key = `${def.name}\u0000${value ?? ''}`;
          if (this.lineage.warnedOver.has(key)) return;
          this.lineage.warnedOver.add(key);
          diag.warn(
            `llm-governor: budget "${def.name}"${value ? ` (${value})` : ''} is exceeded; its action is alert_only, so calls go through (counted in llm_governor_budget_exceeded_allowed_total)`,
          );
        },
        thresholdCrossed: (def, value, threshold, state, windowId) => {
          this.metrics.thresholdCrossed(def, threshold);
          this.auditThreshold('budget_threshold_crossed', def, value, threshold, state.spent, windowId);
          diag.warn(
            `llm-governor: budget "${def.name}"${value ? ` (${def.per} ${value})` : ''} crossed ${Math.round(threshold * 100)}%: ` +
              `$${picoToUsd(state.spent).toFixed(6)} of $${picoToUsd(def.limit)} spent in window ${windowId}`,
          );
        },
        forecastCrossed: (def, value, fraction, state, projected, windowId) => {
          this.metrics.forecastCrossed(def, fraction);
          this.auditThreshold('budget_forecast_crossed', def, value, fraction, state.spent, windowId);
          diag.warn(
            `llm-governor: budget "${def.name}"${value ? ` (${def.per} ${value})` : ''} is projected to spend $${picoToUsd(projected).toFixed(6)} by the end of window ${windowId}, ` +
              `past ${Math.round(fraction * 100)}% of its $${picoToUsd(def.limit)} limit ($${picoToUsd(state.spent).toFixed(6)} spent so far)`,
          );
        },
        states: (d, values, keys, states) => this.metrics.updateStates(d, values, keys, states),
        storeError: (operation) => this.metrics.storeError(operation),
      },
    });
    this.metrics.seed(defs, keyOf);
    for (const e of lineage.engines) if (e.idle) lineage.engines.delete(e.stop());
    lineage.engines.add(this.engine);
    if (shared.kind === 'redis' && !lineage.refreshTimer) {
      // Other processes spend too: refresh the gauges from the shared store.
      lineage.refreshTimer = setInterval(() => void lineage.current.refreshStates(), 10_000);
      lineage.refreshTimer.unref();
    }
  }

  private get store(): BudgetStore | undefined {
    return this.lineage.store;
  }

  get budgetsActive(): boolean {
    return !!this.engine?.active;
  }

  /** Before sending: reserve the worst case on every matching budget (may throw the SDK-shaped error). */
  admit(call: PendingCall, client: unknown): Promise<Admission> {
    if (!this.engine) return Promise.resolve({ actions: [] });
    return this.engine.admit(this.estimate(call), client).catch((err: unknown) => {
      if ((err as { code?: string })?.code === 'budget_unavailable') this.metrics.rejectedCall(REJECT_REASON.BUDGET_UNAVAILABLE);
      throw err;
    });
  }

  /** After the call, on every exit path: commit the actual cost, release the rest. */
  settle(admission: Admission | undefined, cost: CallCost | undefined): void {
    this.engine?.settle(admission, cost?.pico ?? 0);
  }

  /** The worst-case cost of a call, as a value the engine can re-price after a downgrade or a cap. */
  estimate(call: PendingCall): CallEstimate {
    const model = this.pricingModel(call.provider, call.model);
    const { price } = this.priceFor(call.provider, model);
    // An upper bound on what the provider can count: text with a margin, media at their worst.
    const inputTokens = worstInputTokens(estimateInputTokens(call.op, call.body), mediaParts(call.body), model, price.maxInputTokens);
    const choices = call.op.name === 'chat' || call.op.name === 'text_completion' ? choicesOf(call.body) : 1;
    const facts: CallFacts = { provider: call.provider, model: call.model, operation: call.op.name, ...call.attribution };
    const maxOut = call.op.maxOutput?.read(call.body);
    const images = imageRequest(call.op, call.body);
    const characters = call.op.name === 'text_to_speech' ? String(call.body.input ?? '').length : undefined;
    const audioSeconds = typeof call.body._file_bytes === 'number' ? call.body._file_bytes / 4000 : undefined;
    const tier = typeof call.body.service_tier === 'string' ? call.body.service_tier : undefined;
    const amount = worstCaseCost(price, { operation: call.op.name, inputTokens, maxOutputTokens: maxOut, choices, images, characters, audioSeconds, serviceTier: tier });
    const estimate: CallEstimate = { facts, amount };
    if (call.op.maxOutput) {
      estimate.maxOutputWithin = (budget) => maxOutputTokensWithin(price, budget, inputTokens, tier, choices);
      estimate.withMaxOutput = (tokens) => this.estimate({ ...call, body: call.op.maxOutput!.write(call.body, tokens) });
    }
    estimate.withModel = (model) => this.estimate({ ...call, model, body: { ...call.body, model } });
    return estimate;
  }

  /** The actual cost of a finished call, from the provider's usage and the price table. */
  costOf(rec: CallRecord, op?: Operation): CallCost {
    // What served is what is charged: the backup after a fallback.
    const provider = rec.servedProvider ?? rec.provider;
    const requested = rec.servedModel ?? rec.requestModel;
    const model = rec.responseModel || this.pricingModel(provider, requested);
    const { price, known } = this.priceFor(provider, model, requested);
    const body = rec.requestBody;
    const choices = rec.operation === 'chat' || rec.operation === 'text_completion' ? choicesOf(body) : 1;
    const suspicious = suspiciousUsage(rec.usage, { maxInput: price.maxInputTokens, maxOutput: price.maxOutputTokens, choices });
    if (suspicious) {
      // Not believed: the most the call could have cost, which is what was reserved for it.
      const worst = op ? this.estimate({ op, provider, model: requested, body, attribution: {} }).amount : 0;
      return { pico: Math.min(worst, MAX_CALL_PICO), estimated: true, priceModel: price.model, suspicious };
    }
    const cost = computeCost(price, {
      provider,
      operation: rec.operation,
      usage: rec.usage,
      serviceTier: rec.serviceTier,
      images: rec.usage.inputTokens === undefined ? imageRequest(undefined, body, rec.usage.images) : undefined,
      characters: rec.operation === 'text_to_speech' ? String(body.input ?? '').length : undefined,
    });
    return { pico: cost.pico, estimated: rec.usageEstimated || !known, priceModel: price.model };
  }

  /** Azure requests name a deployment, not a model: map it when the config says how. */
  private pricingModel(provider: ProviderName, model: string | undefined): string | undefined {
    if (provider === PROVIDER.AZURE && model && this.config.azure_deployments[model]) return this.config.azure_deployments[model];
    return model;
  }

  /** A price, never silently free: unknown models are priced as the provider's most expensive one. */
  private priceFor(provider: ProviderName, model: string | undefined, fallbackModel?: string): { price: ModelPrice; known: boolean } {
    const hit = this.prices.lookup(provider, model) ?? (fallbackModel ? this.prices.lookup(provider, this.pricingModel(provider, fallbackModel)) : undefined);
    if (hit) return { price: hit.price, known: true };
    const name = model ?? '(none)';
    const key = `${provider}/${name}`;
    this.metrics.unknownPrice({ [ATTR.PROVIDER_NAME]: provider, [ATTR.REQUEST_MODEL]: this.labels?.models.label(name) ?? name });
    if (!this.lineage.warnedUnknown.has(key) && this.lineage.warnedUnknown.size < MAX_WARNED) {
      this.lineage.warnedUnknown.add(key);
      this.audit.record('unknown_price', { provider, model: name, estimated: true });
      diag.warn(`llm-governor: no price for ${key}; costing it as ${provider}'s most expensive model and flagging the cost as estimated (add it under "prices" in the config)`);
    }
    return { price: this.prices.mostExpensive(provider), known: false };
  }

  private auditThreshold(kind: 'budget_threshold_crossed' | 'budget_forecast_crossed', def: BudgetDefinition, value: string | undefined, threshold: number, spent: Pico, windowId: string): void {
    const who: { tenant?: string; userHash?: string; feature?: string } = {};
    if (value !== undefined && value !== UNATTRIBUTED) {
      if (def.per === 'tenant') who.tenant = value;
      else if (def.per === 'feature') who.feature = value;
      // A user from a request field is already a salted hash (u_ + 16 hex); any other is hashed here.
      else if (def.per === 'user') who.userHash = /^u_[0-9a-f]{16}$/.test(value) ? value : hashUser(value, this.config.user_hash_salt);
    }
    this.audit.record(kind, {
      ...who,
      budget: { name: def.name, spentUsd: picoToUsd(spent), limitUsd: picoToUsd(def.limit), window: windowId, threshold },
    });
  }

  private onStoreAvailability(up: boolean, err?: Error): void {
    this.metrics.setStoreAvailable(up);
    const code = (err as { code?: unknown })?.code;
    this.audit.record(up ? 'budget_store_recovered' : 'budget_store_unavailable', {
      failureMode: this.config.store_failure_mode,
      detail: up ? this.store?.kind : `${this.store?.kind ?? 'store'}: ${typeof code === 'string' ? code : (err?.name ?? 'unreachable')}`,
    });
    if (up) {
      diag.warn('llm-governor: budget store reachable again; settling what was pending');
      for (const engine of this.lineage.engines) engine.retryPending();
    } else {
      diag.warn(`llm-governor: budget store unreachable (${err?.message ?? 'unknown error'}); failing ${this.config.store_failure_mode}`);
    }
  }

  private async refreshStates(): Promise<void> {
    if (!this.engine || !this.store) return;
    const known = this.metrics.known();
    const now = this.now();
    const keys = known.map((k) => budgetKey(k.def, { provider: PROVIDER.OPENAI, operation: 'chat', ...(k.def.per ? { [k.def.per]: k.value } : {}) }, now));
    try {
      const states = await this.store.states(
        keys.map((k) => k.key),
        now,
      );
      this.metrics.updateStates(
        known.map((k) => k.def),
        keys.map((k) => k.value),
        keys.map((k) => k.key),
        states,
      );
    } catch {
      /* reported through availability */
    }
  }

  /** Settlements on their way land (or `flush_timeout_ms` passes); nothing is closed. */
  async flush(): Promise<void> {
    await Promise.all([...this.lineage.engines].map((e) => e.settled(this.config.flush_timeout_ms)));
  }

  /** Process end: every engine of the lineage drains (a retired one may still hold calls), then the store closes. */
  async shutdown(): Promise<void> {
    if (this.lineage.refreshTimer) clearInterval(this.lineage.refreshTimer);
    await Promise.all([...this.lineage.engines].map((e) => e.drain(this.config.flush_timeout_ms)));
    await this.store?.close().catch(() => undefined);
  }
}

/**
 * What outlives a reload, one per process: the budget store (spend and reservations), the
 * governor in force, and every engine still settling calls it admitted (the one in force, and any
 * a reload retired while its calls ran).
 */
interface Lineage {
  store?: BudgetStore;
  current: Governor;
  engines: Set<BudgetEngine>;
  refreshTimer?: NodeJS.Timeout;
  /** What was said once (an unknown price, an alert_only budget exceeded) stays said once across reloads. */
  warnedUnknown: Set<string>;
  warnedOver: Set<string>;
}

/** No call is priced above this ($1 000): far inside the stores' range (2^53 pUSD, about $9 007). */
const MAX_CALL_PICO = 1_000 * 1e12;
/** Distinct unknown models warned about (and audited) at most; the rest are counted only. */
const MAX_WARNED = 20;

/** Input tokens of a request, counted locally: the text plus the chat framing. */
function imageRequest(op: Operation | undefined, body: Body, count?: number) {
  if (op && op.name !== 'image_generation' && op.name !== 'image_edit') return undefined;
  if (!op && count === undefined) return undefined;
  return {
    count: count ?? (typeof body.n === 'number' ? body.n : Number(body.n ?? 1)),
    size: typeof body.size === 'string' ? body.size : undefined,
    quality: typeof body.quality === 'string' ? body.quality : undefined,
  };
}
