import type { Counter, Histogram, Meter } from '@opentelemetry/api';
import { ATTR, BUCKETS, GOVERNOR_METRIC, METRIC, TOKEN_TYPE } from '../semconv';
import type { CallRecord } from './record';
import { metricAttributes } from './span-attributes';

/** The GenAI client instruments, with the bucket boundaries the conventions advise. */
export class GenAiMetrics {
  private readonly duration: Histogram;
  private readonly tokens: Histogram;
  private readonly firstChunk: Histogram;
  private readonly cachedInput: Counter;

  constructor(meter: Meter) {
    this.duration = meter.createHistogram(METRIC.OPERATION_DURATION, {
      description: 'GenAI operation duration',
      unit: 's',
      advice: { explicitBucketBoundaries: [...BUCKETS.SECONDS] },
    });
    this.tokens = meter.createHistogram(METRIC.TOKEN_USAGE, {
      description: 'Number of input and output tokens used',
      unit: '{token}',
      advice: { explicitBucketBoundaries: [...BUCKETS.TOKENS] },
    });
    this.firstChunk = meter.createHistogram(METRIC.TIME_TO_FIRST_CHUNK, {
      description: 'Time from the request to the first chunk of a streamed response',
      unit: 's',
      advice: { explicitBucketBoundaries: [...BUCKETS.SECONDS] },
    });
    // The conventions have no token type for it: input tokens the provider served from its prompt
    // cache (billed at the cached-input price), as a counter of our own.
    this.cachedInput = meter.createCounter(GOVERNOR_METRIC.TOKENS_CACHED_INPUT, {
      description: 'Input tokens the provider served from its prompt cache (part of the input tokens)',
      unit: '{token}',
    });
  }

  record(rec: CallRecord, durationSeconds: number): void {
    const attrs = metricAttributes(rec);
    this.duration.record(durationSeconds, attrs);
    if (rec.stream && rec.firstChunkTime !== undefined) {
      this.firstChunk.record((rec.firstChunkTime - rec.startTime) / 1000, attrs);
    }
    if (rec.cacheHit) return; // a cached answer used no tokens
    const { inputTokens, outputTokens } = rec.usage;
    if (inputTokens !== undefined) this.tokens.record(inputTokens, { ...attrs, [ATTR.TOKEN_TYPE]: TOKEN_TYPE.INPUT });
    if (outputTokens !== undefined) this.tokens.record(outputTokens, { ...attrs, [ATTR.TOKEN_TYPE]: TOKEN_TYPE.OUTPUT });
    const cached = rec.usage.cachedInputTokens;
    if (cached !== undefined && cached >= 0) this.cachedInput.add(cached, attrs);
  }
}
