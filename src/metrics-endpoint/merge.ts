import type { MetricData, ResourceMetrics, ScopeMetrics } from '@opentelemetry/sdk-metrics';

/** What a member of the group last reported: its scope metrics, with its label. */
export interface RelayedMetrics {
  label: string;
  scopeMetrics: ScopeMetrics[];
}

const MEMBER_LABEL = 'worker';

const sameScope = (a: ScopeMetrics['scope'], b: ScopeMetrics['scope']) => a.name === b.name && (a.version ?? '') === (b.version ?? '') && (a.schemaUrl ?? '') === (b.schemaUrl ?? '');

function labelled(metric: MetricData, label: string): MetricData['dataPoints'] {
  return metric.dataPoints.map((dp) => ({ ...dp, attributes: { ...dp.attributes, [MEMBER_LABEL]: label } })) as MetricData['dataPoints'];
}

/**
 * The serving process's own metrics with every member's series added, each carrying the
 * member's label (and the server's own, where it has one: a PM2 instance or a cluster worker
 * that serves keeps its label, so that its series stay the same whoever serves). A metric the server also has gains the members' data points (one family per
 * name, as the Prometheus text format requires); one it lacks is added whole. A member's metric
 * of another kind under the same name is left out rather than served as a broken family.
 */
export function withMembers(own: ResourceMetrics, members: readonly RelayedMetrics[], ownLabel?: string): ResourceMetrics {
  const scopes = own.scopeMetrics.map((s) => ({ scope: s.scope, metrics: s.metrics.map((m) => (ownLabel === undefined ? m : ({ ...m, dataPoints: labelled(m, ownLabel) } as MetricData))) }));
  for (const member of members) {
    for (const theirs of member.scopeMetrics) {
      let scope = scopes.find((s) => sameScope(s.scope, theirs.scope));
      if (!scope) {
        scope = { scope: theirs.scope, metrics: [] };
        scopes.push(scope);
      }
      for (const metric of theirs.metrics) {
        const at = scope.metrics.findIndex((m) => m.descriptor.name === metric.descriptor.name);
        if (at < 0) {
          scope.metrics.push({ ...metric, dataPoints: labelled(metric, member.label) } as MetricData);
        } else if (scope.metrics[at].dataPointType === metric.dataPointType) {
          const mine = scope.metrics[at];
          scope.metrics[at] = { ...mine, dataPoints: [...mine.dataPoints, ...labelled(metric, member.label)] } as MetricData;
        }
      }
    }
  }
  return { resource: own.resource, scopeMetrics: scopes };
}
