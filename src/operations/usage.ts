import type { Usage } from './record';

type Obj = Record<string, any>;
const n = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * Normalises the provider's usage object. Chat and legacy completions say `prompt_tokens` /
 * `completion_tokens`; the Responses API, images and audio say `input_tokens` / `output_tokens`;
 * whisper says `{ type: 'duration', seconds }`.
 */
export function readUsage(u: Obj | null | undefined): Usage | undefined {
  if (!u || typeof u !== 'object') return undefined;
  const inDetails: Obj = u.prompt_tokens_details ?? u.input_tokens_details ?? u.input_token_details ?? {};
  const outDetails: Obj = u.completion_tokens_details ?? u.output_tokens_details ?? {};
  const usage: Usage = {
    inputTokens: n(u.prompt_tokens) ?? n(u.input_tokens),
    outputTokens: n(u.completion_tokens) ?? n(u.output_tokens),
    cachedInputTokens: n(inDetails.cached_tokens),
    cacheWriteInputTokens: n(inDetails.cache_creation_tokens) ?? n(inDetails.cache_write_tokens),
    reasoningTokens: n(outDetails.reasoning_tokens),
    audioInputTokens: n(inDetails.audio_tokens),
    audioOutputTokens: n(outDetails.audio_tokens),
    imageInputTokens: n(inDetails.image_tokens),
    audioSeconds: u.type === 'duration' ? n(u.seconds) : undefined,
  };
  // Embeddings report only prompt tokens; a usage with nothing in it is no usage.
  return Object.values(usage).some((v) => v !== undefined) ? usage : undefined;
}
