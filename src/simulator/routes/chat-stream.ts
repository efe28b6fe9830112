/**
 * Chat completion chunks, as the recordings show them: per choice a role chunk, one chunk per token,
 * then one finish chunk per choice. With `stream_options.include_usage` every chunk carries
 * `"usage": null` and a last chunk has `"choices": []` plus the usage; without it, no usage at all.
 */
import { chunkFrames, type SseFrame } from '../sse';
import { splitIntoTokenPieces } from '../tokens';
import { completionFilterResults, promptFilterChunk } from '../azure';
import type { EncodingName } from '../models';
import type { Provider } from '../types';
import type { chatUsage } from '../usage';
import type { Reply } from '../generate';

type Delta = Record<string, unknown>;

/** What a chat answer will be: its replies, usage and the ids it carries. */
export interface ChatPlan {
  id: string;
  created: number;
  model: string;
  provider: Provider;
  replies: Reply[];
  usage?: ReturnType<typeof chatUsage>;
  includeUsage: boolean;
  systemFingerprint: string | null;
  encoding: EncodingName;
}

export function chatStreamFrames(plan: ChatPlan): SseFrame[] {
  const azure = plan.provider === 'azure';
  const envelope = (choices: unknown[]): Record<string, unknown> => {
    const data: Record<string, unknown> = { id: plan.id, object: 'chat.completion.chunk', created: plan.created, model: plan.model };
    if (plan.provider === 'openai') data.service_tier = 'default';
    data.system_fingerprint = plan.systemFingerprint;
    data.choices = choices;
    return data;
  };
  const choice = (index: number, delta: Delta, finishReason: string | null, filters: 'none' | 'full' = 'full') => ({
    index,
    delta,
    logprobs: null,
    finish_reason: finishReason,
    ...(azure ? { content_filter_results: filters === 'full' ? completionFilterResults() : {} } : {}),
  });

  const chunks: Array<Record<string, unknown>> = [];
  plan.replies.forEach((reply, index) => {
    for (const delta of replyDeltas(reply, plan)) chunks.push(envelope([choice(index, delta, null, delta.role ? 'none' : 'full')]));
  });
  plan.replies.forEach((reply, index) => {
    chunks.push(envelope([choice(index, {}, reply.finishReason, 'none')]));
  });
  const frames = chunkFrames(chunks, plan.usage, plan.includeUsage);
  return azure ? [{ data: promptFilterChunk() }, ...frames] : frames;
}

function replyDeltas(reply: Reply, plan: ChatPlan): Delta[] {
  const deltas: Delta[] = [];
  const call = reply.toolCall;
  deltas.push(call ? { role: 'assistant', content: null } : { role: 'assistant', content: '', refusal: null });
  if (reply.reasoningContent !== undefined && plan.provider === 'xai') {
    for (const piece of splitIntoTokenPieces(reply.reasoningContent, plan.encoding)) deltas.push({ reasoning_content: piece });
  }
  if (call) {
    deltas.push({ tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] });
    for (const piece of splitIntoTokenPieces(call.arguments, plan.encoding)) deltas.push({ tool_calls: [{ index: 0, function: { arguments: piece } }] });
  } else {
    for (const piece of splitIntoTokenPieces(reply.text ?? '', plan.encoding)) deltas.push({ content: piece });
  }
  return deltas;
}
