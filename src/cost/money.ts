/**
 * Money is integer picodollars (1e-12 USD) everywhere inside the package: list prices such as
 * $0.15 per 1M tokens are 150 000 pUSD per token, so a call's cost is an exact integer sum, and
 * budgets add and compare integers (exact up to Number.MAX_SAFE_INTEGER pUSD, about $9 007 per
 * figure; Redis counters hold 64-bit integers). USD appears only at the edges (config, telemetry).
 */
export type Pico = number;

const PICO_PER_USD = 1e12;

/** USD (a decimal from config or a price file) to picodollars, rounded to the nearest. */
export function usdToPico(usd: number): Pico {
  return Math.round(usd * PICO_PER_USD);
}

/** USD per 1M units (the way list prices are written) to picodollars per unit. */
export function usdPerMillionToPico(usdPerMillion: number): Pico {
  return Math.round(usdPerMillion * 1e6);
}

export function picoToUsd(pico: Pico): number {
  return pico / PICO_PER_USD;
}
