import type { Attributes } from '@opentelemetry/api';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';

/**
 * Series that a reload withdrew (the gauges of a removed budget). The metrics SDK keeps reporting
 * the last value of every series an observable gauge ever observed, cumulative as it is; so the
 * exporter leaves out what is withdrawn here, and a scrape no longer shows a budget that is gone.
 */
const withdrawn = new Map<string, { metrics: ReadonlySet<string>; attributes: Attributes }>();

const keyOf = (attributes: Attributes) => JSON.stringify(Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : 1)));

/** From now on, `metrics` data points with all of `attributes` are left out of every export. */
export function withdrawSeries(metrics: readonly string[], attributes: Attributes): void {
  withdrawn.set(keyOf(attributes), { metrics: new Set(metrics), attributes });
}

/** The series with these `attributes` are reported again (a budget of that name is back). */
export function restoreSeries(attributes: Attributes): void {
  withdrawn.delete(keyOf(attributes));
}

function isWithdrawn(metric: string, point: Attributes): boolean {
  for (const w of withdrawn.values()) {
    if (w.metrics.has(metric) && Object.entries(w.attributes).every(([k, v]) => point[k] === v)) return true;
  }
  return false;
}

/** `metrics` without the withdrawn series (the same object when nothing is withdrawn). */
export function withoutWithdrawn(metrics: ResourceMetrics): ResourceMetrics {
  if (withdrawn.size === 0) return metrics;
  return {
    resource: metrics.resource,
    scopeMetrics: metrics.scopeMetrics.map((scope) => ({
      ...scope,
      metrics: scope.metrics.map((m) => ({ ...m, dataPoints: (m.dataPoints as { attributes: Attributes }[]).filter((p) => !isWithdrawn(m.descriptor.name, p.attributes)) }) as typeof m),
    })),
  };
}
