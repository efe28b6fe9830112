/**
 * Building blocks shared by the three dashboards: the template variables, the label filter every
 * query carries, and one function per panel kind. Layout is Grafana's 24-column grid; panels flow
 * left to right and wrap (the SDK's DashboardBuilder places them).
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import * as gauge from '@grafana/grafana-foundation-sdk/gauge';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

/** Every panel and query reads from the dashboard's `datasource` variable. */
const DATASOURCE: common.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** The label filter every selector carries: the scrape config sets `job` and `environment`. */
const FILTER = 'job=~"$service", environment=~"$environment"';

/**
 * A series selector with the dashboard filter, plus the selector's own matchers:
 * `sel('llm_governor_cost_total')` → `llm_governor_cost_total{job=~"$service", environment=~"$environment"}`.
 */
export function sel(metric: string, ...matchers: string[]): string {
  return `${metric}{${[FILTER, ...matchers].join(', ')}}`;
}

/** `sum by (labels) (rate(selector[$__rate_interval]))`; without labels, a plain `sum`. */
export function sumRate(selector: string, by: string[] = [], range = '$__rate_interval'): string {
  return `${sumBy(by)}(rate(${selector}[${range}]))`;
}

/** `sum by (labels) (increase(selector[$__range]))`: the total over the dashboard's time range. */
export function sumIncrease(selector: string, by: string[] = [], range = '$__range'): string {
  return `${sumBy(by)}(increase(${selector}[${range}]))`;
}

function sumBy(by: string[]): string {
  return by.length ? `sum by (${by.join(', ')}) ` : 'sum';
}

/** `histogram_quantile(q, sum by (le, …) (rate(<histogram>_bucket{…}[$__rate_interval])))`. */
export function quantile(q: number, histogram: string, by: string[] = [], ...matchers: string[]): string {
  return `histogram_quantile(${q}, ${sumRate(sel(`${histogram}_bucket`, ...matchers), ['le', ...by])})`;
}

export interface Query {
  expr: string;
  /** Grafana legend template, e.g. `{{gen_ai_request_model}}`. */
  legend?: string;
  /** One value at the end of the range (stats, gauges, tables) instead of a series. */
  instant?: boolean;
  /** Table format (instant queries merged into one table). */
  table?: boolean;
}

const REF_IDS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function targets(queries: Query[]): prometheus.DataqueryBuilder[] {
  return queries.map((q, i) => {
    const t = new prometheus.DataqueryBuilder().datasource(DATASOURCE).refId(REF_IDS[i]).editorMode(prometheus.QueryEditorMode.Code).expr(q.expr);
    if (q.legend !== undefined) t.legendFormat(q.legend);
    if (q.instant) t.instant();
    else t.range();
    if (q.table) t.format(prometheus.PromQueryFormat.Table);
    return t;
  });
}

/** What every panel has: a title, a description (also the "what it shows" column of PANELS.md), queries, a unit and a size. */
export interface PanelSpec {
  title: string;
  description: string;
  queries: Query[];
  unit: string;
  /** Width in grid columns (of 24) and height in grid rows. */
  w: number;
  h: number;
  decimals?: number;
  min?: number;
  max?: number;
  thresholds?: dashboard.Threshold[];
  mappings?: dashboard.ValueMapping[];
}

/** The shared field options, applied to any of the SDK's panel builders (they share these methods). */
function base<
  B extends {
    title(t: string): B;
    description(d: string): B;
    datasource(d: common.DataSourceRef): B;
    withTarget(t: prometheus.DataqueryBuilder): B;
    unit(u: string): B;
    span(w: number): B;
    height(h: number): B;
    decimals(d: number): B;
    min(m: number): B;
    max(m: number): B;
    thresholds(t: dashboard.ThresholdsConfigBuilder): B;
    mappings(m: dashboard.ValueMapping[]): B;
  },
>(b: B, s: PanelSpec): B {
  b.title(s.title).description(s.description).datasource(DATASOURCE).unit(s.unit).span(s.w).height(s.h);
  for (const t of targets(s.queries)) b.withTarget(t);
  if (s.decimals !== undefined) b.decimals(s.decimals);
  if (s.min !== undefined) b.min(s.min);
  if (s.max !== undefined) b.max(s.max);
  if (s.thresholds) b.thresholds(new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(s.thresholds));
  if (s.mappings) b.mappings(s.mappings);
  return b;
}

/** Green, then yellow / orange / red at the given fractions (utilization, ratios). */
export function fractionSteps(yellow: number, orange: number, red: number): dashboard.Threshold[] {
  return [
    { value: null, color: 'green' },
    { value: yellow, color: 'yellow' },
    { value: orange, color: 'orange' },
    { value: red, color: 'red' },
  ];
}

const NEUTRAL: dashboard.Threshold[] = [{ value: null, color: 'blue' }];

export interface TimeseriesSpec extends PanelSpec {
  stack?: boolean;
  bars?: boolean;
  /** Queries (by refId) drawn as dashed lines: limits, projections. */
  dashed?: string[];
}

export function timeseriesPanel(s: TimeseriesSpec): timeseries.PanelBuilder {
  const b = base(new timeseries.PanelBuilder(), { thresholds: NEUTRAL, ...s })
    .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom).calcs([]))
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending))
    .lineWidth(1)
    .fillOpacity(s.stack ? 30 : 10)
    .showPoints(common.VisibilityMode.Never)
    .spanNulls(false);
  if (s.bars) b.drawStyle(common.GraphDrawStyle.Bars);
  if (s.stack) b.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  for (const refId of s.dashed ?? []) {
    b.overrideByQuery(refId, [
      { id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } },
      { id: 'custom.fillOpacity', value: 0 },
    ]);
  }
  return b;
}

export function statPanel(s: PanelSpec): stat.PanelBuilder {
  return base(new stat.PanelBuilder(), { thresholds: NEUTRAL, ...s })
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .graphMode(s.queries.some((q) => !q.instant) ? common.BigValueGraphMode.Area : common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.Value)
    .textMode(common.BigValueTextMode.Auto);
}

export function gaugePanel(s: PanelSpec): gauge.PanelBuilder {
  return base(new gauge.PanelBuilder(), s)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .showThresholdMarkers(true)
    .showThresholdLabels(false);
}

export function barGaugePanel(s: PanelSpec): bargauge.PanelBuilder {
  return base(new bargauge.PanelBuilder(), { thresholds: NEUTRAL, ...s })
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .orientation(common.VizOrientation.Horizontal)
    .displayMode(common.BarGaugeDisplayMode.Gradient)
    .showUnfilled(true);
}

export interface TableSpec extends PanelSpec {
  /** Column titles: the merged table's `Value #<refId>` columns, renamed; and their units. */
  columns: { refId: string; title: string; unit: string }[];
  /** Label columns to keep, in order, with their titles. */
  labels: { label: string; title: string }[];
}

/** Instant queries in table format, merged into one row per label set. */
export function tablePanel(s: TableSpec): table.PanelBuilder {
  const rename: Record<string, string> = {};
  const order: Record<string, number> = {};
  s.labels.forEach((l, i) => {
    rename[l.label] = l.title;
    order[l.label] = i;
  });
  s.columns.forEach((c, i) => {
    rename[`Value #${c.refId}`] = c.title;
    order[`Value #${c.refId}`] = s.labels.length + i;
  });
  const b = base(new table.PanelBuilder(), { thresholds: NEUTRAL, ...s })
    .withTransformation({ id: 'merge', options: {} })
    .withTransformation({
      id: 'organize',
      options: { excludeByName: { Time: true }, includeByName: Object.fromEntries(Object.keys(rename).map((k) => [k, true])), indexByName: order, renameByName: rename },
    })
    .cellHeight(common.TableCellHeight.Sm);
  for (const c of s.columns) b.overrideByName(c.title, [{ id: 'unit', value: c.unit }]);
  return b;
}

export function statetimelinePanel(s: PanelSpec): statetimeline.PanelBuilder {
  return base(new statetimeline.PanelBuilder(), { thresholds: NEUTRAL, ...s })
    .showValue(common.VisibilityMode.Never)
    .mergeValues(true)
    .rowHeight(0.8)
    .fillOpacity(80)
    .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom));
}

/**
 * The three template variables every dashboard has: `datasource` (any Prometheus), `service`
 * (the scrape job) and `environment`, both multi-value with All (matching any value, and series
 * without the label).
 */
function variables(): cog.Builder<dashboard.VariableModel>[] {
  const labelVariable = (name: string, label: string, query: string) =>
    new dashboard.QueryVariableBuilder(name)
      .label(label)
      .datasource(DATASOURCE)
      .query(query)
      .definition(query)
      .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
      .sort(dashboard.VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true)
      .allValue('.*')
      .current({ selected: true, text: ['All'], value: ['$__all'] });
  return [
    new dashboard.DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'),
    labelVariable('service', 'Service', 'label_values(gen_ai_client_operation_duration_count, job)'),
    labelVariable('environment', 'Environment', 'label_values(gen_ai_client_operation_duration_count{job=~"$service"}, environment)'),
  ];
}

export type PanelBuilder = cog.Builder<dashboard.Panel>;

export interface DashboardSpec {
  /** File name under deploy/grafana/dashboards/, without `.json`. */
  file: string;
  uid: string;
  title: string;
  description: string;
  /** Default time range start, e.g. `now-6h`. */
  from: string;
  rows: { title: string; panels: PanelBuilder[] }[];
}

/** The dashboard JSON model (classic schema, what file provisioning loads), with stable panel ids. */
export function buildDashboard(s: DashboardSpec): dashboard.Dashboard {
  const b = new dashboard.DashboardBuilder(s.title)
    .uid(s.uid)
    .description(s.description)
    .tags(['llm-governor', 'generated'])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .timezone('utc')
    .time({ from: s.from, to: 'now' })
    .refresh('30s')
    .variables(variables())
    .link(new dashboard.DashboardLinkBuilder('llm-governor').type(dashboard.DashboardLinkType.Dashboards).tags(['llm-governor']).asDropdown(true).includeVars(true).keepTime(true));
  for (const row of s.rows) {
    b.withRow(new dashboard.RowBuilder(row.title));
    for (const p of row.panels) b.withPanel(p);
  }
  const built = b.build();
  (built.panels ?? []).forEach((p, i) => {
    p.id = i + 1;
  });
  return built;
}

/** Prometheus label names, as the exporter writes the package's attributes (dots → `_`). */
export const L = {
  PROVIDER: 'gen_ai_provider_name',
  MODEL: 'gen_ai_request_model',
  OPERATION: 'gen_ai_operation_name',
  TOKEN_TYPE: 'gen_ai_token_type',
  ERROR_TYPE: 'error_type',
  SERVER: 'server_address',
  TENANT: 'llm_governor_tenant',
  BUDGET: 'llm_governor_budget',
  BUDGET_KEY: 'llm_governor_budget_key',
  REASON: 'reason',
  RESULT: 'result',
  KIND: 'kind',
  FROM: 'from',
  TO: 'to',
} as const;

/** Legend for a provider and model pair. */
export const PROVIDER_MODEL = `{{${L.PROVIDER}}} / {{${L.MODEL}}}`;
/** Legend for a budget (and its `per:` value, when it has one). */
export const BUDGET_LEGEND = `{{${L.BUDGET}}} {{${L.BUDGET_KEY}}}`;
