import { estimateInputTokens } from '../../src/cost/tokens';
import { PriceTable } from '../../src/cost/prices';
import { worstCaseCost } from '../../src/cost/pricing';
import { mediaParts, worstInputTokens } from '../../src/cost/worst-input';
import { operationForPath } from '../../src/operations';

/** What the governor reserves (in picodollars) for a gpt-4o-mini chat call of these messages: its worst case, the input margin included. */
export function reservationPico(o: { messages: { role: string; content: string }[]; maxTokens: number }): number {
  const body = { model: 'gpt-4o-mini', messages: o.messages, max_tokens: o.maxTokens };
  const price = PriceTable.bundled().lookup('openai', 'gpt-4o-mini')!.price;
  const inputTokens = worstInputTokens(estimateInputTokens(operationForPath('/chat/completions')!, body), mediaParts(body), 'gpt-4o-mini', price.maxInputTokens);
  return worstCaseCost(price, { operation: 'chat', inputTokens, maxOutputTokens: o.maxTokens });
}
