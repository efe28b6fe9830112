import { randomUUID } from 'node:crypto';
import { governorError, type BudgetExceededDetails } from '../errors';
import { appliesTo, budgetKey, type BudgetDefinition, type CallFacts } from './budgets';
import { budgetForecast, FORECAST_MIN_ELAPSED } from './forecast';
import { picoToUsd, type Pico } from './money';
import type { BudgetKey, BudgetState, BudgetStore, ReserveResult } from './stores/types';

/** A call's hold on its budgets, from `admit` to `settle`. */
export interface Reservation {
  id: string;
  amount: Pico;
  keys: BudgetKey[];
  defs: BudgetDefinition[];
  values: (string | undefined)[];
}

/** What `admit` decided. */
export interface Admission {
  reservation?: Reservation;
  /** The model to send instead (a downgrade). */
  model?: string;
  /** The output-token limit to send instead (cap_tokens). */
  maxOutputTokens?: number;
  /** Actions taken, e.g. `daily:cap_tokens`, `gpt4o-monthly:downgrade`, `team:alert_only`. */
  actions: string[];
  /**
   * The budget store could not be reached and the config fails open: nothing is held, but the
   * reservation's keys are kept, so that the call's cost is still recorded at settle (when the
   * store is back, if it is not yet).
   */
  storeUnavailable?: boolean;
}

/** How a call's worst case is priced; the engine asks again after a downgrade or a cap. */
export interface CallEstimate {
  facts: CallFacts;
  /** Worst-case cost with the current model and output limit. */
  amount: Pico;
  /** Largest output limit whose worst case fits `budget` (cap_tokens), or undefined when not capable. */
  maxOutputWithin?(budget: Pico): number;
  /** The estimate for the same call sent to another model (downgrade). */
  withModel?(model: string): CallEstimate;
  /** The estimate with an output limit (cap_tokens). */
  withMaxOutput?(tokens: number): CallEstimate;
}

export interface BudgetEvents {
  rejected(def: BudgetDefinition, value: string | undefined): void;
  exceededAllowed(def: BudgetDefinition, value: string | undefined): void;
  thresholdCrossed(def: BudgetDefinition, value: string | undefined, threshold: number, state: BudgetState, windowId: string): void;
  /** The spend projected at the window's end crossed `fraction` of the limit (`forecast_alert`), once per window. */
  forecastCrossed(def: BudgetDefinition, value: string | undefined, fraction: number, state: BudgetState, projected: Pico, windowId: string): void;
  states(defs: BudgetDefinition[], values: (string | undefined)[], keys: BudgetKey[], states: BudgetState[]): void;
  storeError(operation: string, error: unknown): void;
}

/**
 * Whether a settled call was spent over a budget's limit: its cost landed (at least partly) above
 * the limit, or it was let through while the limit was already reached. `spent` is after the call.
 */
export function overLimit(spent: Pico, actual: Pico, limit: Pico): boolean {
  return spent > limit || spent - actual >= limit;
}

/** Settlements kept for a store that is down, at most (beyond, the oldest record is the store's TTL). */
const MAX_PENDING = 100_000;
const PENDING_RETRY_MS = 1_000;

/** The smallest reply worth sending when capping output tokens. */
const MIN_CAPPED_OUTPUT_TOKENS = 16;

/**
 * Budgets with atomic reservations. Before a call is sent, its worst-case cost is reserved on
 * every budget it falls under, in one atomic store operation (no check-then-spend). When it does
 * not fit, the budget's action decides: block, cap the output tokens, downgrade the model, or
 * (alert_only, reserved by force) let it through. After the call, `settle` commits the actual cost
 * and releases the rest; on every exit path, since the call lifecycle settles exactly once.
 */
export class BudgetEngine {
  private readonly pending = new Map<string, { reservationId: string; actual: Pico; keys: BudgetKey[] }>();
  /** Reservations of calls still running, with when each lease ends; renewed while they run. */
  private readonly leases = new Map<string, { reservation: Reservation; expiresAtMs: number }>();
  private leaseTimer?: NodeJS.Timeout;

  constructor(
    readonly defs: readonly BudgetDefinition[],
    readonly store: BudgetStore,
    private readonly opts: {
      now: () => number;
      reservationTtlMs: number;
      failureMode: 'open' | 'closed';
      events: BudgetEvents;
    },
  ) {}

  get active(): boolean {
    return this.defs.length > 0;
  }

  /** Reserves the call's worst case, applying the budgets' actions. Throws the SDK-shaped error on a block. */
  async admit(estimate: CallEstimate, client: unknown): Promise<Admission> {
    this.admitting++;
    try {
      return await this.reserveFor(estimate, client);
    } finally {
      this.admitting--;
    }
  }

  private admitting = 0;

  private async reserveFor(estimate: CallEstimate, client: unknown): Promise<Admission> {
    const actions: string[] = [];
    let current = estimate;
    let model: string | undefined;
    let maxOutputTokens: number | undefined;
    const downgraded = new Set<string>();
    for (let attempt = 0; attempt < 6; attempt++) {
      const now = this.opts.now();
      const defs = this.defs.filter((d) => appliesTo(d, current.facts));
      if (!defs.length || current.amount <= 0) return { model, maxOutputTokens, actions };
      const parts = defs.map((d) => budgetKey(d, current.facts, now));
      const reservation: Reservation = { id: randomUUID(), amount: current.amount, keys: parts.map((p) => p.key), defs, values: parts.map((p) => p.value) };
      let result: ReserveResult;
      const expiresAtMs = now + this.opts.reservationTtlMs;
      try {
        result = await this.store.reserve({ reservationId: reservation.id, amount: reservation.amount, keys: reservation.keys, nowMs: now, expiresAtMs });
      } catch (err) {
        this.opts.events.storeError('reserve', err);
        if (this.opts.failureMode === 'closed') {
          // The reservation may have landed before the timeout: release it, as soon as the store answers.
          this.settleJob({ reservationId: reservation.id, actual: 0, keys: reservation.keys });
          throw governorError(client, 'budget_unavailable', 503, `llm-governor: the budget store is unavailable and the configuration fails closed (${(err as Error)?.message ?? err})`, {});
        }
        // Sent without a hold; its cost is recorded at settle, under the same id (which also
        // releases the reservation if it did land).
        return { reservation, model, maxOutputTokens, actions, storeUnavailable: true };
      }
      this.opts.events.states(defs, reservation.values, reservation.keys, result.states);
      if (result.ok) {
        // An alert_only budget whose committed spend already reached its limit lets this call through
        // over it. (Worst-case reservations do not count: the call is counted at settle if its real
        // cost lands over the limit.)
        defs.forEach((d, i) => {
          if (d.action === 'alert_only' && result.states[i].spent >= d.limit) actions.push(`${d.name}:alert_only`);
        });
        this.lease(reservation, expiresAtMs);
        return { reservation, model, maxOutputTokens, actions };
      }

      const i = result.failed;
      const def = defs[i];
      const state = result.states[i];
      const action = def.action;
      if (typeof action === 'object' && current.withModel && !downgraded.has(action.downgrade) && current.facts.model !== action.downgrade) {
        downgraded.add(action.downgrade);
        current = current.withModel(action.downgrade);
        model = action.downgrade;
        actions.push(`${def.name}:downgrade`);
        continue;
      }
      if (action === 'cap_tokens' && current.maxOutputWithin && current.withMaxOutput) {
        const room = def.limit - state.spent - state.reserved;
        const tokens = current.maxOutputWithin(room);
        if (tokens >= MIN_CAPPED_OUTPUT_TOKENS && tokens !== maxOutputTokens) {
          current = current.withMaxOutput(tokens);
          maxOutputTokens = tokens;
          if (!actions.includes(`${def.name}:cap_tokens`)) actions.push(`${def.name}:cap_tokens`);
          continue;
        }
      }
      this.opts.events.rejected(def, reservation.values[i]);
      throw this.exceeded(client, def, reservation.values[i], reservation.keys[i], state, current.amount);
    }
    // Races kept moving the goalposts: refuse rather than overspend.
    const def = this.defs.find((d) => appliesTo(d, current.facts))!;
    this.opts.events.rejected(def, undefined);
    throw this.exceeded(client, def, undefined, budgetKey(def, current.facts, this.opts.now()).key, { spent: 0, reserved: 0 }, current.amount);
  }

  /** Commits the actual cost and releases the rest of the reservation. Never throws; retried after a store outage. */
  settle(admission: Admission | undefined, actual: Pico): void {
    const r = admission?.reservation;
    if (!r) return;
    this.leases.delete(r.id);
    this.settleJob({ reservationId: r.id, actual: Math.max(0, Math.round(actual)), keys: r.keys }, r);
  }

  private settleJob(job: { reservationId: string; actual: Pico; keys: BudgetKey[] }, r?: Reservation): void {
    const done = this.store.settle({ ...job, nowMs: this.opts.now() }).then(
      (states) => {
        if (r) this.afterSettle(r, states, job.actual);
      },
      (err) => {
        this.opts.events.storeError('settle', err);
        this.keepPending(job);
      },
    );
    this.inflight.add(done);
    void done.finally(() => this.inflight.delete(done));
  }

  /** Settlements on their way to the store. */
  private readonly inflight = new Set<Promise<void>>();
  private pendingTimer?: NodeJS.Timeout;

  /** A settlement the store could not take: kept, and tried again every second until it lands. */
  private keepPending(job: { reservationId: string; actual: Pico; keys: BudgetKey[] }): void {
    if (this.pending.size < MAX_PENDING) this.pending.set(job.reservationId, job);
    if (this.pendingTimer) return;
    this.pendingTimer = setInterval(() => {
      if (this.pending.size === 0) {
        clearInterval(this.pendingTimer);
        this.pendingTimer = undefined;
        return;
      }
      this.retryPending();
    }, PENDING_RETRY_MS);
    this.pendingTimer.unref();
  }

  /**
   * Before the process ends: every settlement still on its way, and every one kept while the
   * store was down, given one more chance to land, for at most `timeoutMs`.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.stop();
    await this.settled(timeoutMs);
  }

  /**
   * Every settlement on its way, and every one kept while the store was down, given a chance to
   * land, for at most `timeoutMs`; leases go on (a serverless handler's `flush()`, not an end).
   */
  async settled(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && (this.inflight.size > 0 || this.pending.size > 0)) {
      if (this.pending.size > 0 && this.inflight.size === 0) this.retryPending();
      await Promise.race([Promise.allSettled([...this.inflight]), new Promise((r) => setTimeout(r, Math.max(1, Math.min(250, deadline - Date.now()))))]);
    }
  }

  /**
   * A call's reservation lives as long as the call: its lease is renewed while it runs (one
   * timer for all calls, one store round trip per call per half TTL), so a call longer than the
   * TTL keeps its hold; a process that dies stops renewing, and its holds expire at their TTL.
   */
  private lease(reservation: Reservation, expiresAtMs: number): void {
    this.leases.set(reservation.id, { reservation, expiresAtMs });
    if (this.leaseTimer) return;
    const every = Math.max(250, Math.floor(this.opts.reservationTtlMs / 4));
    this.leaseTimer = setInterval(() => this.renewLeases(), every);
    this.leaseTimer.unref();
  }

  private renewLeases(): void {
    if (this.leases.size === 0) {
      clearInterval(this.leaseTimer);
      this.leaseTimer = undefined;
      return;
    }
    const now = this.opts.now();
    const ttl = this.opts.reservationTtlMs;
    for (const lease of this.leases.values()) {
      if (lease.expiresAtMs - now > ttl / 2) continue;
      const expiresAtMs = now + ttl;
      this.store.renew({ reservationId: lease.reservation.id, keys: lease.reservation.keys, nowMs: now, expiresAtMs }).then(
        () => {
          lease.expiresAtMs = expiresAtMs;
        },
        (err) => this.opts.events.storeError('renew', err),
      );
    }
  }

  /** Stops renewing (shutdown). */
  stop(): this {
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    if (this.pendingTimer) clearInterval(this.pendingTimer);
    this.leaseTimer = undefined;
    this.pendingTimer = undefined;
    return this;
  }

  /** Nothing of its calls is left to renew or settle: no lease, no settlement pending or in flight. */
  get idle(): boolean {
    return this.admitting === 0 && this.leases.size === 0 && this.pending.size === 0 && this.inflight.size === 0;
  }

  /** Calls holding a lease now. */
  get leased(): number {
    return this.leases.size;
  }

  /** Settles what could not be settled while the store was down (called when it recovers). */
  retryPending(): void {
    const jobs = [...this.pending.values()];
    this.pending.clear();
    for (const job of jobs) this.settleJob(job);
  }

  get pendingSettlements(): number {
    return this.pending.size;
  }

  private afterSettle(r: Reservation, states: BudgetState[], actual: Pico): void {
    this.opts.events.states(r.defs, r.values, r.keys, states);
    const now = this.opts.now();
    r.defs.forEach((def, i) => {
      const state = states[i];
      if (!state) return;
      if (def.action === 'alert_only' && overLimit(state.spent, actual, def.limit)) this.opts.events.exceededAllowed(def, r.values[i]);
      const key = r.keys[i];
      const forecastAt = def.forecastAlert;
      if (forecastAt !== undefined) {
        const f = budgetForecast(def.window, state.spent, def.limit, key.windowEndMs, now);
        if (f.elapsed >= FORECAST_MIN_ELAPSED && f.projected >= forecastAt * def.limit) {
          this.markOnce(key, `forecast:${forecastAt}`, now, () => this.opts.events.forecastCrossed(def, r.values[i], forecastAt, state, f.projected, key.id));
        }
      }
      const utilization = state.spent / def.limit;
      for (const t of def.thresholds) {
        if (utilization < t) break;
        this.markOnce(key, `threshold:${t}`, now, () => this.opts.events.thresholdCrossed(def, r.values[i], t, state, key.id));
      }
    });
  }

  /** Calls `first` when this process is the first (of all, on Redis) to set `mark` on the key in its window. */
  private markOnce(key: BudgetKey, mark: string, now: number, first: () => void): void {
    // Marked already (by us, or found marked by another process) for this window: no round trip.
    const seen = `${key.id}\u0000${mark}`;
    if ((this.marked.get(seen) ?? 0) > now) return;
    this.store.markOnce(key, mark, now).then(
      (isFirst) => {
        this.remember(seen, key.rolling ? now + key.rolling.durationMs : key.windowEndMs, now);
        if (isFirst) first();
      },
      (err) => this.opts.events.storeError('markOnce', err),
    );
  }

  /** Threshold marks known to be set, until when; pruned of expired ones as it grows. */
  private readonly marked = new Map<string, number>();

  private remember(seen: string, validUntil: number, now: number): void {
    if (this.marked.size >= 10_000) for (const [k, until] of this.marked) if (until <= now) this.marked.delete(k);
    if (this.marked.size < 10_000) this.marked.set(seen, validUntil);
  }

  private exceeded(client: unknown, def: BudgetDefinition, value: string | undefined, key: BudgetKey, state: BudgetState, requested: Pico): Error {
    const details: BudgetExceededDetails = {
      budget: def.name,
      ...(value !== undefined ? { key: value } : {}),
      limitUsd: picoToUsd(def.limit),
      spentUsd: picoToUsd(state.spent),
      reservedUsd: picoToUsd(state.reserved),
      requestedUsd: picoToUsd(requested),
      resetsAt: def.window.kind === 'rolling' ? 'rolling' : new Date(key.windowEndMs).toISOString(),
    };
    const who = value !== undefined ? ` for ${def.per} "${value}"` : '';
    const message =
      `llm-governor: budget "${def.name}"${who} would be exceeded: limit $${fmt(details.limitUsd)}, ` +
      `spent $${fmt(details.spentUsd)}, reserved $${fmt(details.reservedUsd)}, this call needs up to $${fmt(details.requestedUsd)}; ` +
      (def.window.kind === 'rolling' ? 'the rolling window frees budget as spend ages out' : `the window resets at ${details.resetsAt}`);
    return governorError(client, 'budget_exceeded', 429, message, details);
  }
}

function fmt(usd: number): string {
  return usd >= 1 ? usd.toFixed(2) : usd.toPrecision(3);
}
