import { diag, type Meter } from '@opentelemetry/api';
import CircuitBreaker from 'opossum';
import type { GovernorConfig } from '../config/schema';
import { NO_AUDIT, type AuditRecorder } from '../audit/trail';
import { governorError } from '../errors';
import { ATTR, GOVERNOR_METRIC } from '../semconv';

/** Breaker states as the `llm_governor.breaker.state` gauge reports them. */
const BREAKER_STATE = { closed: 0, half_open: 1, open: 2 } as const;
type StateName = keyof typeof BREAKER_STATE;

export interface BreakerSettings {
  /** Failures (within the rolling window) before the breaker opens. */
  failures: number;
  /** Time open before one trial call is let through (half-open). */
  resetMs: number;
  /** Error percentage above which it opens, once `failures` calls were seen. */
  errorPercentage: number;
  rollingWindowMs: number;
}

/** What the breaker admitted: settle it with the call's outcome, exactly once. */
export interface BreakerTicket {
  settle(failure: boolean): void;
}

export interface BreakerKey {
  id: string;
  provider: string;
  model: string;
  server?: string;
}

/**
 * Does this outcome count against the provider? 5xx, 429, timeouts and connection errors do;
 * 4xx answers (the provider is up, the request was wrong), the app's own aborts and our own
 * rejections (budget, rate limit, content) do not.
 */
export function isBreakerFailure(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  if ((error as { llmGovernorCode?: string }).llmGovernorCode) return false;
  const name = (error as { constructor?: { name?: string } }).constructor?.name ?? '';
  if (name === 'APIUserAbortError' || (error as { name?: string }).name === 'AbortError') return false;
  const status = (error as { status?: unknown }).status;
  if (typeof status === 'number') return status >= 500 || status === 429;
  return true; // no HTTP status: connection reset, timeout, truncated stream, malformed body
}

interface Entry {
  breaker: CircuitBreaker;
  key: BreakerKey;
  state: StateName;
  openedAt: number;
}

/**
 * One circuit breaker per provider, model (Azure: deployment) and server, fed by each call's
 * outcome. opossum keeps the statistics and the state machine; it never runs or times out the
 * call itself: its action is a deferred that the call lifecycle settles, so cancellation stays
 * with each call's own AbortSignal (opossum's shared AbortController is not used), and half-open
 * admits exactly one trial.
 */
export class Breakers {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private settings: BreakerSettings,
    meter: Meter,
    private readonly now: () => number = Date.now,
    audit: AuditRecorder = NO_AUDIT,
  ) {
    const transitions = meter.createCounter(GOVERNOR_METRIC.BREAKER_TRANSITIONS, { description: 'Circuit breaker state changes' });
    this.transition = (entry, to) => {
      if (entry.state === to) return;
      const from = entry.state;
      transitions.add(1, { ...this.attributes(entry.key), from, to });
      entry.state = to;
      const k = entry.key;
      audit.record(to === 'open' ? 'breaker_opened' : to === 'half_open' ? 'breaker_half_opened' : 'breaker_closed', {
        breaker: { provider: k.provider, model: k.model, from },
        providerHost: k.server,
        detail: to === 'open' ? (from === 'half_open' ? 'the trial call failed' : 'repeated failures') : to === 'half_open' ? 'one trial call allowed' : 'the trial call succeeded',
      });
    };
    meter.createObservableGauge(GOVERNOR_METRIC.BREAKER_STATE, { description: 'Circuit breaker state: 0 closed, 1 half-open, 2 open' }).addCallback((r) => {
      for (const e of this.entries.values()) r.observe(BREAKER_STATE[e.state], this.attributes(e.key));
    });
  }

  private readonly transition: (entry: Entry, to: StateName) => void;

  private attributes(key: BreakerKey) {
    return { [ATTR.PROVIDER_NAME]: key.provider, [ATTR.REQUEST_MODEL]: key.model, ...(key.server ? { [ATTR.SERVER_ADDRESS]: key.server } : {}) };
  }

  private entry(key: BreakerKey): Entry {
    let e = this.entries.get(key.id);
    if (e) return e;
    const breaker = new CircuitBreaker((gate: { enter: () => Promise<void> }) => gate.enter(), {
      timeout: false,
      resetTimeout: this.settings.resetMs,
      errorThresholdPercentage: this.settings.errorPercentage,
      volumeThreshold: this.settings.failures,
      rollingCountTimeout: this.settings.rollingWindowMs,
      rollingCountBuckets: 10,
    });
    const entry: Entry = { breaker, key, state: 'closed', openedAt: 0 };
    breaker.on('open', () => {
      entry.openedAt = this.now();
      if (entry.state !== 'half_open') diag.warn(`llm-governor: circuit breaker for ${key.provider} ${key.model} opened after repeated failures; next trial in ${this.settings.resetMs / 1000} s`);
      this.transition(entry, 'open');
    });
    breaker.on('halfOpen', () => this.transition(entry, 'half_open'));
    breaker.on('close', () => {
      diag.warn(`llm-governor: circuit breaker for ${key.provider} ${key.model} closed again: the trial call succeeded`);
      this.transition(entry, 'closed');
    });
    this.entries.set(key.id, (e = entry));
    return e;
  }

  /**
   * A reload with other settings: every breaker starts afresh (closed) under them. Tickets of calls
   * still running settle on the breakers they were admitted by, which no longer report.
   */
  reconfigure(settings: BreakerSettings): void {
    if (JSON.stringify(settings) === JSON.stringify(this.settings)) return;
    this.settings = settings;
    this.reset();
  }

  /** Drops every breaker (a reload turned them off, or changed their settings). */
  reset(): void {
    for (const e of this.entries.values()) {
      e.breaker.removeAllListeners();
      e.breaker.shutdown();
    }
    this.entries.clear();
  }

  /** True while the breaker is open (not half-open): a call would be refused at once. */
  isOpen(key: BreakerKey): boolean {
    return this.entries.get(key.id)?.state === 'open';
  }

  /** The CircuitOpenError for this breaker (an APIError 503 `circuit_open`), saying when the next trial is. */
  refusal(key: BreakerKey, client: unknown): Error {
    const e = this.entry(key);
    const nextTrial = new Date(e.openedAt + this.settings.resetMs).toISOString();
    return governorError(
      client,
      'circuit_open',
      503,
      `llm-governor: the circuit breaker for ${key.provider} ${key.model} is open after repeated failures; nothing was sent. The next trial call is allowed at ${nextTrial}`,
      { breaker: key.id, nextTrialAt: nextTrial },
    );
  }

  /** Admits a call, or throws CircuitOpenError (an APIError 503 `circuit_open`) and nothing is sent. */
  admit(key: BreakerKey, client: unknown): BreakerTicket {
    const e = this.entry(key);
    let settleWork!: (failure: boolean) => void;
    const work = new Promise<void>((resolve, reject) => {
      settleWork = (failure) => (failure ? reject(PROVIDER_FAILURE) : resolve());
    });
    // opossum runs the action synchronously inside fire() when (and only when) it admits the call.
    const gate = { admitted: false, enter: () => ((gate.admitted = true), work) };
    void e.breaker.fire(gate).catch(() => undefined);
    if (!gate.admitted) throw this.refusal(key, client);
    let done = false;
    return {
      settle: (failure) => {
        if (done) return;
        done = true;
        settleWork(failure);
      },
    };
  }
}

const PROVIDER_FAILURE = new Error('provider failure');

/** The breakers' settings in the config. */
export function breakerSettings(config: GovernorConfig): BreakerSettings {
  return {
    failures: config.breaker_failures,
    resetMs: config.breaker_reset_seconds * 1000,
    errorPercentage: config.breaker_error_percentage,
    rollingWindowMs: config.breaker_rolling_window_seconds * 1000,
  };
}

/** Breakers from the config's settings. */
export function breakersFrom(config: GovernorConfig, meter: Meter, audit: AuditRecorder = NO_AUDIT): Breakers {
  return new Breakers(breakerSettings(config), meter, Date.now, audit);
}
