import type { Attributes } from '@opentelemetry/api';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';

/**
 * Series that a reload withdrew (the gauges of a removed budget). The metrics SDK keeps reporting
 * the last value of every series an observable gauge ever observed, cumulative as it is; so the
 * exporter leaves out what is withdrawn here, and a scrape no longer shows a budget that is gone.
 */
const withdrawn = new Map<string, { metrics: ReadonlySet<string>; attribute: string; value: string }>();

/** From now on, `metrics` data points whose `attribute` is `value` are left out of every export. */
export function withdrawSeries(metrics: readonly string[], attribute: string, value: string): void {
  withdrawn.set(`${attribute}\u0000${value}`, { metrics: new Set(metrics), attribute, value });
}

/** The series of `attribute` = `value` are reported again (a budget of that name is back). */
export function restoreSeries(attribute: string, value: string): void {
  withdrawn.delete(`${attribute}\u0000${value}`);
}

function isWithdrawn(metric: string, attributes: Attributes): boolean {
  for (const w of withdrawn.values()) if (w.metrics.has(metric) && attributes[w.attribute] === w.value) return true;
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
