import type { Counter, Histogram, Meter } from '@opentelemetry/api';
import { ATTR, BUCKETS, GOVERNOR_METRIC, METRIC, TOKEN_TYPE } from '../semconv';
import type { CallRecord } from '../operations/record';
import { WireLabels } from '../util/bounded-labels';
import { metricAttributes } from './span-attributes';

/** Chunk gaps kept per call before they are handed to the histogram. */
const GAP_BATCH = 1024;

/** The GenAI client instruments, with the bucket boundaries the conventions advise. */
export class GenAiMetrics {
  private readonly duration: Histogram;
  private readonly tokens: Histogram;
  private readonly firstChunk: Histogram;
  private readonly perChunk: Histogram;
  private readonly cachedInput: Counter;
  private readonly ungovernedRequests: Counter;

  /** Model and server label values, bounded (shared with the cost metrics). */
  readonly labels: WireLabels;

  constructor(meter: Meter, labelLimit = 100) {
    const folded = meter.createCounter(GOVERNOR_METRIC.LABELS_FOLDED, { description: 'Label values folded into `other` (more distinct models or servers than wire_label_limit)' });
    this.labels = new WireLabels(labelLimit, (label) => folded.add(1, { label }));
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
    this.perChunk = meter.createHistogram(METRIC.TIME_PER_OUTPUT_CHUNK, {
      description: 'Time between consecutive chunks of a streamed response, for each chunk after the first',
      unit: 's',
      advice: { explicitBucketBoundaries: [...BUCKETS.SECONDS] },
    });
    // The conventions have no token type for it: input tokens the provider served from its prompt
    // cache (billed at the cached-input price), as a counter of our own.
    this.cachedInput = meter.createCounter(GOVERNOR_METRIC.TOKENS_CACHED_INPUT, {
      description: 'Input tokens the provider served from its prompt cache (part of the input tokens)',
      unit: '{token}',
    });
    this.ungovernedRequests = meter.createCounter(GOVERNOR_METRIC.UNGOVERNED_REQUESTS, {
      description: 'Requests to a provider endpoint that no entry governs (they bypass the openai SDK hook and fetch)',
    });
  }

  /** A provider request no entry governs, by client and host (bounded). */
  ungoverned(client: string, host: string): void {
    this.ungovernedRequests.add(1, { client, host: this.labels.servers.label(host) ?? 'other' });
  }

  /**
   * One chunk's distance from the one before (ms). Only kept here: a push on the hot path; the
   * histogram is fed when the call ends (or every `GAP_BATCH` chunks of a long stream).
   */
  chunkGap(rec: CallRecord, ms: number): void {
    const gaps = (rec.chunkGaps ??= []);
    gaps.push(ms / 1000);
    if (gaps.length >= GAP_BATCH) this.recordGaps(rec, metricAttributes(rec, this.labels));
  }

  private recordGaps(rec: CallRecord, attrs: ReturnType<typeof metricAttributes>): void {
    const gaps = rec.chunkGaps;
    if (!gaps?.length) return;
    for (let i = 0; i < gaps.length; i++) this.perChunk.record(gaps[i]!, attrs);
    gaps.length = 0;
  }

  record(rec: CallRecord, durationSeconds: number): void {
    const attrs = metricAttributes(rec, this.labels);
    this.duration.record(durationSeconds, attrs);
    if (rec.stream && rec.firstChunkTime !== undefined) {
      this.firstChunk.record((rec.firstChunkTime - rec.startTime) / 1000, attrs);
      this.recordGaps(rec, attrs);
    }
    if (rec.cacheHit || rec.usageSuspicious) return; // a cached answer used no tokens; absurd counts are not data
    const { inputTokens, outputTokens } = rec.usage;
    if (inputTokens !== undefined) this.tokens.record(inputTokens, { ...attrs, [ATTR.TOKEN_TYPE]: TOKEN_TYPE.INPUT });
    if (outputTokens !== undefined) this.tokens.record(outputTokens, { ...attrs, [ATTR.TOKEN_TYPE]: TOKEN_TYPE.OUTPUT });
    const cached = rec.usage.cachedInputTokens;
    if (cached !== undefined && cached >= 0) this.cachedInput.add(cached, attrs);
  }
}
