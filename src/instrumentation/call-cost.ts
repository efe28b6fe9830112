import type { Span } from '@opentelemetry/api';
import type { Attribution } from '../attribution';
import type { CallCost } from '../cost/governor';
import type { CostMetrics } from '../cost/metrics';
import { picoToUsd } from '../cost/money';
import { countTokensOnce, estimateInputTokens } from '../cost/tokens';
import type { Operation } from '../operations';
import type { CallRecord } from '../operations/record';
import { ATTR } from '../semconv';
import type { BoundedLabels } from '../util/bounded-labels';

/** What a call costs, on its span and in `llm_governor_cost_total`: charged to what served (the backup after a fallback). */
export function recordCost(span: Span, rec: CallRecord, attribution: Attribution, cost: CallCost, m: CostMetrics, models: BoundedLabels): void {
  const usd = picoToUsd(cost.pico);
  span.setAttribute(ATTR.COST_USD, usd);
  if (cost.estimated) span.setAttribute(ATTR.COST_ESTIMATED, true);
  if (cost.priceModel) span.setAttribute(ATTR.PRICE_MODEL, cost.priceModel);
  const attrs: Record<string, string> = { [ATTR.PROVIDER_NAME]: rec.servedProvider ?? rec.provider, [ATTR.OPERATION_NAME]: rec.operation };
  const model = rec.servedModel ?? rec.requestModel;
  if (model) attrs[ATTR.REQUEST_MODEL] = models.label(model)!;
  if (rec.responseModel) attrs[ATTR.RESPONSE_MODEL] = models.label(rec.responseModel)!;
  const tenant = m.tenants.label(attribution.tenant);
  const user = m.users.label(attribution.user);
  const feature = m.features.label(attribution.feature);
  if (tenant) attrs[ATTR.TENANT] = tenant;
  if (user) attrs[ATTR.USER] = user;
  if (feature) attrs[ATTR.FEATURE] = feature;
  m.recordCost(usd, attrs);
}

const TOKEN_BILLED = new Set<string>(['chat', 'text_completion', 'embeddings']);

/** Token counts come from the provider; only when it gave none do we count them ourselves (flagged). */
export function estimateMissingUsage(rec: CallRecord, op: Operation): void {
  const u = rec.usage;
  // Only token-billed operations are estimated: images, audio and moderation bill otherwise.
  if (!TOKEN_BILLED.has(rec.operation)) return;
  if (u.inputTokens === undefined) {
    u.inputTokens = estimateInputTokens(op, rec.requestBody);
    rec.usageEstimated = true;
  }
  if (u.outputTokens === undefined && (rec.stream || rec.outputText.length)) {
    u.outputTokens = countTokensOnce(rec.outputText.join(''));
    rec.usageEstimated = true;
  }
}

/** The request's tokens for a TPM limit: its input, counted, plus the output it asks for. */
export function tpmTokens(op: Operation, body: Record<string, unknown>): number {
  let input = 0;
  let output = 0;
  try {
    input = estimateInputTokens(op, body);
  } catch {
    input = 0;
  }
  try {
    output = op.maxOutput?.read(body) ?? 0;
  } catch {
    output = 0;
  }
  return input + output;
}
