import { L, PROVIDER_MODEL, type DashboardSpec, barGaugePanel, quantile, sel, statPanel, sumIncrease, sumRate, timeseriesPanel } from './lib';

const USAGE = 'gen_ai_client_token_usage';
const USAGE_SUM = `${USAGE}_sum`;
const CACHED = 'llm_governor_tokens_cached_input_total';
const INPUT = `${L.TOKEN_TYPE}="input"`;
const OUTPUT = `${L.TOKEN_TYPE}="output"`;
const BY_TARGET = [L.PROVIDER, L.MODEL];

export const tokens: DashboardSpec = {
  file: 'llm-governor-tokens',
  uid: 'llm-governor-tokens',
  title: 'llm-governor / Tokens',
  description: 'Input, output and cached-input tokens, as the providers report them (counted locally, and flagged, only when a provider sends none).',
  from: 'now-6h',
  rows: [
    {
      title: 'Overview',
      panels: [
        statPanel({
          title: 'Input tokens in range',
          description: 'Input (prompt) tokens over the selected time range.',
          queries: [{ expr: sumIncrease(sel(USAGE_SUM, INPUT)), instant: true }],
          unit: 'short',
          decimals: 0,
          w: 6,
          h: 5,
        }),
        statPanel({
          title: 'Output tokens in range',
          description: 'Output (completion) tokens over the selected time range.',
          queries: [{ expr: sumIncrease(sel(USAGE_SUM, OUTPUT)), instant: true }],
          unit: 'short',
          decimals: 0,
          w: 6,
          h: 5,
        }),
        statPanel({
          title: 'Cached input tokens in range',
          description: 'Input tokens the provider served from its prompt cache (billed at the cached-input price) over the selected time range; part of the input tokens.',
          queries: [{ expr: sumIncrease(sel(CACHED)), instant: true }],
          unit: 'short',
          decimals: 0,
          w: 6,
          h: 5,
        }),
        statPanel({
          title: 'Cached share of input',
          description: 'Cached input tokens / input tokens over the selected time range.',
          queries: [{ expr: `(${sumIncrease(sel(CACHED))} or vector(0)) / ${sumIncrease(sel(USAGE_SUM, INPUT))}`, instant: true }],
          unit: 'percentunit',
          decimals: 1,
          w: 6,
          h: 5,
        }),
      ],
    },
    {
      title: 'By model',
      panels: [
        timeseriesPanel({
          title: 'Input tokens by model (tokens/s)',
          description: 'Input tokens per second by provider and requested model.',
          queries: [{ expr: sumRate(sel(USAGE_SUM, INPUT), BY_TARGET), legend: PROVIDER_MODEL }],
          unit: 'short',
          min: 0,
          stack: true,
          w: 12,
          h: 8,
        }),
        timeseriesPanel({
          title: 'Output tokens by model (tokens/s)',
          description: 'Output tokens per second by provider and requested model.',
          queries: [{ expr: sumRate(sel(USAGE_SUM, OUTPUT), BY_TARGET), legend: PROVIDER_MODEL }],
          unit: 'short',
          min: 0,
          stack: true,
          w: 12,
          h: 8,
        }),
        timeseriesPanel({
          title: 'Cached input tokens by model (tokens/s)',
          description: "Input tokens served from the provider's prompt cache, per second, by provider and requested model.",
          queries: [{ expr: sumRate(sel(CACHED), BY_TARGET), legend: PROVIDER_MODEL }],
          unit: 'short',
          min: 0,
          stack: true,
          w: 12,
          h: 8,
        }),
        timeseriesPanel({
          title: 'Cached share of input by model',
          description: 'Cached input tokens / input tokens, by provider and requested model (0 where nothing was cached).',
          queries: [{ expr: `(${sumRate(sel(CACHED), BY_TARGET)} or ${sumRate(sel(USAGE_SUM, INPUT), BY_TARGET)} * 0) / ${sumRate(sel(USAGE_SUM, INPUT), BY_TARGET)}`, legend: PROVIDER_MODEL }],
          unit: 'percentunit',
          min: 0,
          max: 1,
          w: 12,
          h: 8,
        }),
        barGaugePanel({
          title: 'Tokens by model in range',
          description: 'Input and output tokens per requested model over the selected time range, largest first.',
          queries: [{ expr: `sort_desc(${sumIncrease(sel(USAGE_SUM), [L.MODEL, L.TOKEN_TYPE])})`, legend: `{{${L.MODEL}}} {{${L.TOKEN_TYPE}}}`, instant: true }],
          unit: 'short',
          decimals: 0,
          min: 0,
          w: 12,
          h: 8,
        }),
        timeseriesPanel({
          title: 'Tokens per call p50 / p95',
          description: 'Input and output tokens per call, median and 95th percentile (from the token-usage histogram; bucket bounds are powers of 4, so values are coarse).',
          queries: [0.5, 0.95].map((q) => ({ expr: quantile(q, USAGE, [L.TOKEN_TYPE]), legend: `p${q * 100} {{${L.TOKEN_TYPE}}}` })),
          unit: 'short',
          min: 0,
          w: 12,
          h: 8,
        }),
      ],
    },
  ],
};
