/** POST chat/completions (non-stream and stream). */
import { unixNow, type RequestContext } from '../context';
import { sendError, sendJson } from '../http';
import { invalidParameter, missingParameter } from '../errors';
import { sendSse } from '../sse';
import { encodingForModel, snapshotOf } from '../models';
import { chatPromptTokens, functionTools, type MessageLike } from '../prompt-tokens';
import { planTurn, replyFormat, stopList } from '../turn';
import { chatUsage } from '../usage';
import { completionFilterResults, promptFilterResults } from '../azure';
import type { Reply } from '../generate';
import type { Provider } from '../types';
import { chatStreamFrames, type ChatPlan } from './chat-stream';

export async function handleChat(ctx: RequestContext): Promise<void> {
  const body = ctx.body;
  const model = ctx.model;
  if (!model) return sendError(ctx, missingParameter('model'));
  if (!Array.isArray(body.messages) || body.messages.length === 0) return sendError(ctx, missingParameter('messages'));
  const n = body.n ?? 1;
  if (!Number.isInteger(n) || n < 1 || n > 128) return sendError(ctx, invalidParameter('n', `Invalid 'n': integer must be between 1 and 128, got ${n}.`));

  const messages = body.messages as MessageLike[];
  const tools = functionTools(body.tools);
  const turn = planTurn(ctx, {
    model,
    messages,
    tools,
    toolChoice: body.tool_choice,
    format: replyFormat(body.response_format),
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
    stop: stopList(body.stop),
    reasoningEffort: body.reasoning_effort,
    n,
    promptTokens: chatPromptTokens(messages, tools, encodingForModel(model), model),
  });
  const plan: ChatPlan = {
    id: ctx.route.provider === 'xai' ? ctx.ids.uuid() : `chatcmpl-${ctx.ids.id(29)}`,
    created: unixNow(),
    model: snapshotOf(model),
    provider: ctx.route.provider,
    replies: turn.replies,
    usage: ctx.omitUsage ? undefined : chatUsage(turn.counts, ctx.route.provider),
    includeUsage: body.stream_options?.include_usage === true,
    systemFingerprint: ctx.route.provider === 'openai' ? null : `fp_${ctx.ids.hex(10)}`,
    encoding: turn.encoding,
  };
  if (body.stream === true) return sendSse(ctx, chatStreamFrames(plan));
  sendJson(ctx, 200, chatCompletionBody(plan));
}

function assistantMessage(reply: Reply, provider: Provider): Record<string, unknown> {
  const message: Record<string, unknown> = { role: 'assistant', content: reply.text };
  if (reply.reasoningContent !== undefined && provider === 'xai') message.reasoning_content = reply.reasoningContent;
  if (reply.toolCall) {
    message.tool_calls = [{ id: reply.toolCall.id, type: 'function', function: { name: reply.toolCall.name, arguments: reply.toolCall.arguments } }];
  }
  message.refusal = null;
  message.annotations = [];
  return message;
}

function chatCompletionBody(plan: ChatPlan): Record<string, unknown> {
  const azure = plan.provider === 'azure';
  const out: Record<string, unknown> = { id: plan.id, object: 'chat.completion', created: plan.created, model: plan.model };
  if (azure) out.prompt_filter_results = promptFilterResults();
  out.choices = plan.replies.map((reply, index) => ({
    index,
    message: assistantMessage(reply, plan.provider),
    logprobs: null,
    finish_reason: reply.finishReason,
    ...(azure ? { content_filter_results: completionFilterResults() } : {}),
  }));
  if (plan.usage) out.usage = plan.usage;
  if (plan.provider === 'openai') out.service_tier = 'default';
  out.system_fingerprint = plan.systemFingerprint;
  return out;
}
