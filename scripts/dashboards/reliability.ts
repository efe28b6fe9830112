import type { ValueMapping } from '@grafana/grafana-foundation-sdk/dashboard';
import { MappingType } from '@grafana/grafana-foundation-sdk/dashboard';
import { L, PROVIDER_MODEL, type DashboardSpec, fractionSteps, quantile, sel, statPanel, statetimelinePanel, sumRate, timeseriesPanel } from './lib';

const DURATION = 'gen_ai_client_operation_duration';
const FIRST_CHUNK = 'gen_ai_client_operation_time_to_first_chunk';
const CALLS = `${DURATION}_count`;
const FAILED = `${L.ERROR_TYPE}!=""`;
const BY_TARGET = [L.PROVIDER, L.MODEL];

/** Failed calls / all calls; 0 (not a gap) where nothing failed. */
const errorRatio = (by: string[] = []) => {
  const all = sumRate(sel(CALLS), by);
  const none = by.length ? `${all} * 0` : 'vector(0)';
  return `(${sumRate(sel(CALLS, FAILED), by)} or ${none}) / ${all}`;
};

const BREAKER_STATES: ValueMapping[] = [
  {
    type: MappingType.ValueToText,
    options: {
      '0': { text: 'closed', color: 'green', index: 0 },
      '1': { text: 'half-open', color: 'yellow', index: 1 },
      '2': { text: 'open', color: 'red', index: 2 },
    },
  },
];

const BREAKER = `max by (${L.PROVIDER}, ${L.MODEL}, ${L.SERVER}) (${sel('llm_governor_breaker_state')})`;

const remaining = (kind: string) => `min by (${L.PROVIDER}, ${L.MODEL}) (${sel('llm_governor_ratelimit_remaining', `${L.KIND}="${kind}"`)})`;

export const reliability: DashboardSpec = {
  file: 'llm-governor-reliability',
  uid: 'llm-governor-reliability',
  title: 'llm-governor / Reliability',
  description: 'Request and error rates, latency, circuit breakers, fallbacks, retries and rate-limit headroom of LLM calls.',
  from: 'now-6h',
  rows: [
    {
      title: 'Overview',
      panels: [
        statPanel({
          title: 'Request rate',
          description: 'Calls per second, all providers and operations (cached answers and refusals included: each call is counted once).',
          queries: [{ expr: sumRate(sel(CALLS)) }],
          unit: 'reqps',
          w: 6,
          h: 5,
        }),
        statPanel({
          title: 'Error ratio',
          description: 'Share of calls that ended in an error (any `error_type`).',
          queries: [{ expr: errorRatio() }],
          unit: 'percentunit',
          decimals: 1,
          thresholds: fractionSteps(0.01, 0.05, 0.1),
          w: 6,
          h: 5,
        }),
        statPanel({
          title: 'p95 latency',
          description: '95th percentile of call duration, all providers and operations (for streams, until the stream ends).',
          queries: [{ expr: quantile(0.95, DURATION) }],
          unit: 's',
          w: 6,
          h: 5,
        }),
        statPanel({
          title: 'Open circuit breakers',
          description: 'Circuit breakers (per provider, model and endpoint) that are open now.',
          queries: [{ expr: `count(${BREAKER} == 2) or vector(0)`, instant: true }],
          unit: 'short',
          decimals: 0,
          thresholds: [
            { value: null, color: 'green' },
            { value: 1, color: 'red' },
          ],
          w: 6,
          h: 5,
        }),
      ],
    },
    {
      title: 'Traffic and errors',
      panels: [
        timeseriesPanel({
          title: 'Request rate by provider and model',
          description: 'Calls per second by provider and requested model.',
          queries: [{ expr: sumRate(sel(CALLS), BY_TARGET), legend: PROVIDER_MODEL }],
          unit: 'reqps',
          min: 0,
          stack: true,
          w: 12,
          h: 8,
        }),
        timeseriesPanel({
          title: 'Errors by type',
          description:
            'Failed calls per second by `error_type`: the SDK error class (`RateLimitError`, `APIConnectionError`, …) or, for a call llm-governor refused, its code (`budget_exceeded`, `circuit_open`, `rate_limited`, `content_blocked`, …).',
          queries: [{ expr: sumRate(sel(CALLS, FAILED), [L.ERROR_TYPE]), legend: `{{${L.ERROR_TYPE}}}` }],
          unit: 'reqps',
          min: 0,
          stack: true,
          w: 12,
          h: 8,
        }),
        timeseriesPanel({
          title: 'Error ratio by provider and model',
          description: 'Share of calls that failed, by provider and requested model.',
          queries: [{ expr: errorRatio(BY_TARGET), legend: PROVIDER_MODEL }],
          unit: 'percentunit',
          min: 0,
          max: 1,
          w: 24,
          h: 8,
        }),
      ],
    },
    {
      title: 'Latency',
      panels: [
        timeseriesPanel({
          title: 'Latency p50 / p95 / p99',
          description: 'Call duration percentiles, all providers and operations (histogram buckets as the GenAI conventions advise: 10 ms to 82 s).',
          queries: [0.5, 0.95, 0.99].map((q) => ({ expr: quantile(q, DURATION), legend: `p${q * 100}` })),
          unit: 's',
          min: 0,
          w: 12,
          h: 8,
        }),
        timeseriesPanel({
          title: 'p95 latency by provider and model',
          description: '95th percentile of call duration by provider and requested model.',
          queries: [{ expr: quantile(0.95, DURATION, BY_TARGET), legend: PROVIDER_MODEL }],
          unit: 's',
          min: 0,
          w: 12,
          h: 8,
        }),
        timeseriesPanel({
          title: 'Time to first chunk p50 / p95 / p99',
          description: 'Time from the request to the first chunk of a streamed response (streams only).',
          queries: [0.5, 0.95, 0.99].map((q) => ({ expr: quantile(q, FIRST_CHUNK), legend: `p${q * 100}` })),
          unit: 's',
          min: 0,
          w: 12,
          h: 8,
        }),
        timeseriesPanel({
          title: 'p95 time to first chunk by provider and model',
          description: '95th percentile of the time to the first chunk of a stream, by provider and requested model.',
          queries: [{ expr: quantile(0.95, FIRST_CHUNK, BY_TARGET), legend: PROVIDER_MODEL }],
          unit: 's',
          min: 0,
          w: 12,
          h: 8,
        }),
      ],
    },
    {
      title: 'Guards',
      panels: [
        statetimelinePanel({
          title: 'Circuit breaker state',
          description: 'State of each circuit breaker (per provider, model and endpoint) over time: closed, half-open (one trial call allowed) or open (calls refused or sent to a fallback).',
          queries: [{ expr: BREAKER, legend: `${PROVIDER_MODEL} {{${L.SERVER}}}` }],
          mappings: BREAKER_STATES,
          unit: 'short',
          w: 24,
          h: 7,
        }),
        timeseriesPanel({
          title: 'Breaker transitions (per minute)',
          description: 'Circuit breaker state changes per minute, by provider, model and new state.',
          queries: [{ expr: `${sumRate(sel('llm_governor_breaker_transitions_total'), [L.PROVIDER, L.MODEL, L.TO])} * 60`, legend: `${PROVIDER_MODEL} → {{${L.TO}}}` }],
          unit: 'cpm',
          min: 0,
          w: 6,
          h: 8,
        }),
        timeseriesPanel({
          title: 'Fallbacks',
          description: 'Calls sent on to a backup per second, by primary and backup (provider/model) and the reason.',
          queries: [{ expr: sumRate(sel('llm_governor_fallbacks_total'), [L.FROM, L.TO, L.REASON]), legend: `{{${L.FROM}}} → {{${L.TO}}} ({{${L.REASON}}})` }],
          unit: 'reqps',
          min: 0,
          stack: true,
          w: 6,
          h: 8,
        }),
        timeseriesPanel({
          title: 'Retries',
          description: 'Attempts sent again after a retryable failure, per second, by provider, model and reason.',
          queries: [{ expr: sumRate(sel('llm_governor_retries_total'), [L.PROVIDER, L.MODEL, L.REASON]), legend: `${PROVIDER_MODEL} ({{${L.REASON}}})` }],
          unit: 'reqps',
          min: 0,
          stack: true,
          w: 6,
          h: 8,
        }),
        timeseriesPanel({
          title: 'Calls refused by guards',
          description: 'Calls refused by an open circuit breaker (with no fallback left) or by the client-side rate limiter (past its maximum wait), per second.',
          queries: [{ expr: sumRate(sel('llm_governor_requests_rejected_total', `${L.REASON}=~"circuit_open|rate_limited"`), [L.REASON]), legend: `{{${L.REASON}}}` }],
          unit: 'reqps',
          min: 0,
          stack: true,
          w: 6,
          h: 8,
        }),
      ],
    },
    {
      title: 'Rate limits',
      panels: [
        timeseriesPanel({
          title: 'Requests left in the provider rate limit',
          description: "Requests left in the provider's current rate-limit window, from its `x-ratelimit-remaining-requests` headers (the lowest any process saw).",
          queries: [{ expr: remaining('requests'), legend: PROVIDER_MODEL }],
          unit: 'short',
          min: 0,
          w: 6,
          h: 8,
        }),
        timeseriesPanel({
          title: 'Tokens left in the provider rate limit',
          description: "Tokens left in the provider's current rate-limit window, from its `x-ratelimit-remaining-tokens` headers (the lowest any process saw).",
          queries: [{ expr: remaining('tokens'), legend: PROVIDER_MODEL }],
          unit: 'short',
          min: 0,
          w: 6,
          h: 8,
        }),
        timeseriesPanel({
          title: 'Calls delayed by the rate limiter',
          description: 'Calls per second that waited in the client-side rate limiter before they were sent.',
          queries: [{ expr: sumRate(sel('llm_governor_ratelimit_wait_count'), BY_TARGET), legend: PROVIDER_MODEL }],
          unit: 'reqps',
          min: 0,
          stack: true,
          w: 6,
          h: 8,
        }),
        timeseriesPanel({
          title: 'Rate-limiter wait p95',
          description: '95th percentile of the time delayed calls waited in the client-side rate limiter.',
          queries: [{ expr: quantile(0.95, 'llm_governor_ratelimit_wait', BY_TARGET), legend: PROVIDER_MODEL }],
          unit: 's',
          min: 0,
          w: 6,
          h: 8,
        }),
      ],
    },
  ],
};
