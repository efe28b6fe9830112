import type { OperationName, ProviderName } from '../semconv';

/** Token and unit usage of one call, as the provider reported it (or as we estimated it). */
export interface Usage {
  inputTokens?: number;
  outputTokens?: number;
  cachedInputTokens?: number;
  cacheWriteInputTokens?: number;
  reasoningTokens?: number;
  audioInputTokens?: number;
  audioOutputTokens?: number;
  imageInputTokens?: number;
  audioSeconds?: number;
  images?: number;
}

/** Everything we learn about one logical call: the one record that spans, metrics and later cost share. */
export interface CallRecord {
  operation: OperationName;
  provider: ProviderName;
  requestModel?: string;
  responseModel?: string;
  responseId?: string;
  finishReasons: string[];
  usage: Usage;
  /** True when any token figure was estimated locally because the provider gave none. */
  usageEstimated: boolean;
  /** Why the provider's usage was not believed (see `cost/usage-check.ts`). */
  usageSuspicious?: string;
  stream: boolean;
  /** We added `stream_options.include_usage`, so the usage chunk must be hidden from the app. */
  usageInjected: boolean;
  /** A chunk carried `"usage": null`: the provider answers `include_usage` as OpenAI does. */
  usageNulls?: boolean;
  /** A chunk carried usage already: a later one is the provider's own, not an answer to our ask. */
  usageSeen?: boolean;
  /** After a fallback: the backup that served (requestModel and provider stay what was asked). */
  servedProvider?: ProviderName;
  servedModel?: string;
  /** Answered from our response cache: nothing was sent or spent. */
  cacheHit?: boolean;
  serverAddress?: string;
  serverPort?: number;
  httpStatus?: number;
  errorType?: string;
  serviceTier?: string;
  systemFingerprint?: string;
  /** Parts of the generated text kept for a local estimate when a stream ends without usage. */
  outputText: string[];
  /** The request, kept only for estimates and content capture. Never mutated. */
  requestBody: Record<string, unknown>;
  startTime: number;
  firstChunkTime?: number;
  lastChunkTime?: number;
  /** Seconds between consecutive chunks, waiting to be recorded (gen_ai.client.operation.time_per_output_chunk). */
  chunkGaps?: number[];
  chunks: number;
}

export function newRecord(operation: OperationName, provider: ProviderName, body: Record<string, unknown>): CallRecord {
  return {
    operation,
    provider,
    requestModel: typeof body.model === 'string' ? body.model : undefined,
    finishReasons: [],
    usage: {},
    usageEstimated: false,
    stream: body.stream === true,
    usageInjected: false,
    outputText: [],
    requestBody: body,
    startTime: performance.now(),
    chunks: 0,
  };
}
