import type { Attributes, Span } from '@opentelemetry/api';
import type { Target } from '../guards/fallback';
import { errorType } from '../pipeline/error-type';
import { redact } from '../redaction';
import { ATTR, PROVIDER } from '../semconv';
import type { WireLabels } from '../util/bounded-labels';
import type { CallRecord } from '../operations/record';

/** What identifies a call in spans and metrics alike. */
function identity(rec: CallRecord): Attributes {
  const attrs: Attributes = {
    [ATTR.OPERATION_NAME]: rec.operation,
    [ATTR.PROVIDER_NAME]: rec.provider,
  };
  if (rec.requestModel) attrs[ATTR.REQUEST_MODEL] = rec.requestModel;
  if (rec.serverAddress) attrs[ATTR.SERVER_ADDRESS] = rec.serverAddress;
  return attrs;
}

/** Attributes known when the span starts. */
export function startAttributes(rec: CallRecord): Attributes {
  const attrs = identity(rec);
  if (rec.serverPort) attrs[ATTR.SERVER_PORT] = rec.serverPort;
  return attrs;
}

/**
 * Metric attributes, as the conventions list them for the client metrics, every value from the
 * wire or the app bounded (`WireLabels`): a new model or server per call never grows the series.
 */
export function metricAttributes(rec: CallRecord, labels?: WireLabels): Attributes {
  const attrs = identity(rec);
  if (labels) {
    if (rec.requestModel) attrs[ATTR.REQUEST_MODEL] = labels.models.label(rec.requestModel)!;
    if (rec.serverAddress) attrs[ATTR.SERVER_ADDRESS] = labels.servers.label(rec.serverAddress)!;
  }
  if (rec.responseModel) attrs[ATTR.RESPONSE_MODEL] = labels ? labels.models.label(rec.responseModel)! : rec.responseModel;
  if (rec.errorType) attrs[ATTR.ERROR_TYPE] = rec.errorType;
  return attrs;
}

/** Attributes learned from the response, set once before the span ends. */
export function endAttributes(rec: CallRecord): Attributes {
  const attrs: Attributes = {};
  if (rec.responseModel) attrs[ATTR.RESPONSE_MODEL] = rec.responseModel;
  if (rec.responseId) attrs[ATTR.RESPONSE_ID] = rec.responseId;
  if (rec.finishReasons.length) attrs[ATTR.RESPONSE_FINISH_REASONS] = rec.finishReasons;
  const u = rec.usage;
  if (u.inputTokens !== undefined) attrs[ATTR.USAGE_INPUT_TOKENS] = u.inputTokens;
  if (u.outputTokens !== undefined) attrs[ATTR.USAGE_OUTPUT_TOKENS] = u.outputTokens;
  if (u.cachedInputTokens !== undefined) attrs[ATTR.USAGE_CACHE_READ_INPUT_TOKENS] = u.cachedInputTokens;
  if (u.cacheWriteInputTokens !== undefined) attrs[ATTR.USAGE_CACHE_CREATION_INPUT_TOKENS] = u.cacheWriteInputTokens;
  if (u.reasoningTokens !== undefined) {
    attrs[ATTR.USAGE_REASONING_OUTPUT_TOKENS] = u.reasoningTokens;
    attrs[ATTR.USAGE_REASONING_TOKENS] = u.reasoningTokens; // deprecated name, kept one release
  }
  if (rec.usageEstimated) attrs[ATTR.USAGE_ESTIMATED] = true;
  if (rec.httpStatus !== undefined) attrs[ATTR.HTTP_STATUS_CODE] = rec.httpStatus;
  if (rec.errorType) attrs[ATTR.ERROR_TYPE] = rec.errorType;
  if (rec.stream) {
    attrs[ATTR.STREAM] = true;
    attrs[ATTR.STREAM_CHUNKS] = rec.chunks;
    if (rec.firstChunkTime !== undefined) attrs[ATTR.RESPONSE_TIME_TO_FIRST_CHUNK] = (rec.firstChunkTime - rec.startTime) / 1000;
    if (rec.usageInjected) attrs[ATTR.USAGE_REQUESTED_BY_GOVERNOR] = true;
  }
  if (rec.provider === PROVIDER.OPENAI) {
    if (rec.serviceTier) attrs[ATTR.OPENAI_RESPONSE_SERVICE_TIER] = rec.serviceTier;
    if (rec.systemFingerprint) attrs[ATTR.OPENAI_RESPONSE_SYSTEM_FINGERPRINT] = rec.systemFingerprint;
  }
  return attrs;
}

/** The answer served came from `target`: after a fallback, the record and the span say so. */
export function servedBy(rec: CallRecord, span: Span, target: Target): void {
  if (target.primary) return;
  rec.servedProvider = target.provider.name;
  rec.servedModel = target.model;
  rec.serverAddress = target.provider.serverAddress;
  rec.serverPort = target.provider.serverPort;
  span.setAttributes({
    [ATTR.SERVED_PROVIDER]: target.provider.name,
    [ATTR.SERVED_MODEL]: target.model,
    ...(target.provider.serverAddress ? { [ATTR.SERVER_ADDRESS]: target.provider.serverAddress } : {}),
    ...(target.provider.serverPort ? { [ATTR.SERVER_PORT]: target.provider.serverPort } : {}),
  });
}

export function spanName(rec: Pick<CallRecord, 'operation' | 'requestModel'>): string {
  return rec.requestModel ? `${rec.operation} ${rec.requestModel}` : rec.operation;
}

/**
 * The exception recorded on the span: class and message only. SDK error messages hold the
 * response body, which an upstream may fill with an echo of our credentials: redacted.
 */
export function sanitizedException(error: unknown): { name: string; message: string } {
  const name = errorType(error);
  const raw = error instanceof Error ? error.message : String(error);
  return { name, message: redact(raw).slice(0, 1000) };
}
