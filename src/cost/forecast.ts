import type { Pico } from './money';
import { currentWindow, type WindowSpec } from './windows';

/**
 * Spend forecasts: where a budget's spend will be when its window ends, and when it would reach
 * its limit, from the spend so far. A pure function of the spend and the window (no clock).
 *
 * The rate is linear over the elapsed window: spent / (now − window start). The stores keep one
 * total per window (Redis: shared by every process), not the times of the calls, so this is the
 * rate every process computes alike from the same figures; an exponentially weighted rate would
 * need each process's own history of the shared total, and processes would disagree.
 *
 * - Calendar windows: projected = spent × length / elapsed; the limit is reached after
 *   (limit − spent) / rate, if that falls before the window resets.
 * - Rolling windows always hold one full duration of spend, so at the same rate the spend stays
 *   where it is: projected = spent, and the limit is reached only if it already is.
 */
export interface Forecast {
  /** Spend projected at the end of the window (pUSD, rounded). */
  projected: Pico;
  /** Milliseconds from now until the limit is reached: 0 when it already is, undefined when not within this window. */
  exhaustsInMs?: number;
}

export interface ForecastInput {
  spent: Pico;
  limit: Pico;
  startMs: number;
  endMs: number;
  nowMs: number;
  rolling: boolean;
}

export function forecast({ spent, limit, startMs, endMs, nowMs, rolling }: ForecastInput): Forecast {
  if (spent >= limit) return { projected: rolling ? spent : Math.max(spent, projectCalendar(spent, startMs, endMs, nowMs)), exhaustsInMs: 0 };
  if (rolling) return { projected: spent };
  const projected = projectCalendar(spent, startMs, endMs, nowMs);
  const elapsed = nowMs - startMs;
  if (spent <= 0 || elapsed <= 0) return { projected };
  const until = ((limit - spent) * elapsed) / spent;
  return nowMs + until <= endMs ? { projected, exhaustsInMs: Math.ceil(until) } : { projected };
}

function projectCalendar(spent: Pico, startMs: number, endMs: number, nowMs: number): Pico {
  const elapsed = nowMs - startMs;
  if (elapsed <= 0 || nowMs >= endMs) return spent;
  return Math.round((spent * (endMs - startMs)) / elapsed);
}

/** Before this share of a calendar window has passed, a projection is too noisy to alert on (one call at 00:01 would project the day ×1440). */
export const FORECAST_MIN_ELAPSED = 1 / 24;

/** The forecast of a budget whose window is `spec`, with `spent` in the window that ends at `windowEndMs`; a window already over has spent nothing in the current one. */
export function budgetForecast(spec: WindowSpec, spent: Pico, limit: Pico, windowEndMs: number, nowMs: number): Forecast & { elapsed: number } {
  if (spec.kind === 'rolling') return { ...forecast({ spent, limit, startMs: nowMs - spec.durationMs, endMs: nowMs, nowMs, rolling: true }), elapsed: 1 };
  const w = currentWindow(spec, nowMs);
  const current = windowEndMs > nowMs ? spent : 0;
  return { ...forecast({ spent: current, limit, startMs: w.startMs, endMs: w.endMs, nowMs, rolling: false }), elapsed: (nowMs - w.startMs) / (w.endMs - w.startMs) };
}
