/** Usage objects in each endpoint's and provider's shape. */
import type { Provider } from './types';

export interface TokenCounts {
  prompt: number;
  /** Visible output tokens (text or tool calls). */
  output: number;
  reasoning: number;
  cached: number;
}

/** Chat Completions usage. OpenAI/Azure count reasoning inside completion_tokens; xAI reports it apart. */
export function chatUsage(t: TokenCounts, provider: Provider) {
  if (provider === 'xai') {
    return {
      prompt_tokens: t.prompt,
      completion_tokens: t.output,
      total_tokens: t.prompt + t.output + t.reasoning,
      prompt_tokens_details: { text_tokens: t.prompt, audio_tokens: 0, image_tokens: 0, cached_tokens: t.cached },
      completion_tokens_details: { reasoning_tokens: t.reasoning, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
      num_sources_used: 0,
    };
  }
  const completion = t.output + t.reasoning;
  return {
    prompt_tokens: t.prompt,
    completion_tokens: completion,
    total_tokens: t.prompt + completion,
    prompt_tokens_details: { cached_tokens: t.cached, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: t.reasoning, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

/** Responses API usage. */
export function responsesUsage(t: TokenCounts) {
  const output = t.output + t.reasoning;
  return {
    input_tokens: t.prompt,
    input_tokens_details: { cached_tokens: t.cached },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: t.reasoning },
    total_tokens: t.prompt + output,
  };
}

/** Legacy completions usage (no details). */
export function legacyUsage(prompt: number, completion: number) {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export function embeddingsUsage(prompt: number) {
  return { prompt_tokens: prompt, total_tokens: prompt };
}
