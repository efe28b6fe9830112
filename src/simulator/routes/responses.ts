/** POST responses (Responses API), non-stream and stream. */
import { unixNow, type RequestContext } from '../context';
import { sendError, sendJson } from '../http';
import { missingParameter } from '../errors';
import { sendSse } from '../sse';
import { encodingForModel, isReasoningModel, snapshotOf } from '../models';
import { functionTools, responsesInputMessages, responsesPromptTokens } from '../prompt-tokens';
import { planTurn, replyFormat } from '../turn';
import { responsesUsage } from '../usage';
import type { Reply } from '../generate';
import type { Prng } from '../prng';
import { responseEvents, type OutputItem } from './responses-stream';

export async function handleResponses(ctx: RequestContext): Promise<void> {
  const { body } = ctx;
  const model = ctx.model;
  if (!model) return sendError(ctx, missingParameter('model'));
  if (body.input === undefined && !body.previous_response_id) return sendError(ctx, missingParameter('input'));
  const encoding = encodingForModel(model);
  const turn = planTurn(ctx, {
    model,
    messages: responsesInputMessages(body.input),
    tools: functionTools(body.tools),
    toolChoice: body.tool_choice,
    format: replyFormat(body.text?.format),
    maxTokens: body.max_output_tokens ?? undefined,
    reasoningEffort: body.reasoning?.effort,
    n: 1,
    promptTokens: responsesPromptTokens(body, encoding, model),
  });
  const reply = turn.replies[0]!;
  const incomplete = reply.finishReason === 'length';
  const reasoning = isReasoningModel(model);
  const response: Record<string, unknown> = {
    id: `resp_${ctx.ids.hex(48)}`,
    object: 'response',
    created_at: unixNow(),
    status: incomplete ? 'incomplete' : 'completed',
    error: null,
    incomplete_details: incomplete ? { reason: 'max_output_tokens' } : null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model: snapshotOf(model),
    output: outputItems(reply, ctx.ids, reasoning, incomplete),
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: reasoning ? (body.reasoning?.effort ?? 'medium') : null, summary: body.reasoning?.summary ?? null },
    store: body.store ?? true,
    temperature: body.temperature ?? 1,
    text: { format: body.text?.format ?? { type: 'text' } },
    tool_choice: body.tool_choice ?? 'auto',
    tools: Array.isArray(body.tools) ? body.tools : [],
    top_p: body.top_p ?? 1,
    truncation: body.truncation ?? 'disabled',
    usage: responsesUsage(turn.counts),
    user: body.user ?? null,
    metadata: body.metadata ?? {},
  };
  if (ctx.omitUsage) delete response.usage;
  if (body.stream === true) return sendSse(ctx, responseEvents(response));
  sendJson(ctx, 200, response);
}

function outputItems(reply: Reply, ids: Prng, reasoning: boolean, incomplete: boolean): OutputItem[] {
  const items: OutputItem[] = [];
  if (reasoning) items.push({ type: 'reasoning', id: `rs_${ids.hex(48)}`, summary: [] });
  if (reply.toolCall) {
    items.push({
      type: 'function_call',
      id: `fc_${ids.hex(48)}`,
      call_id: reply.toolCall.id,
      name: reply.toolCall.name,
      arguments: reply.toolCall.arguments,
      status: 'completed',
    });
  } else if (reply.text || !incomplete) {
    items.push({
      type: 'message',
      id: `msg_${ids.hex(48)}`,
      status: incomplete ? 'incomplete' : 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text: reply.text ?? '', annotations: [] }],
    });
  }
  return items;
}
