/** One model turn for the chat-style endpoints: prompt accounting, caching and the generated replies. */
import type { RequestContext } from './context';
import { encodingForModel, type EncodingName } from './models';
import { chooseTool, generateReply, trailingToolResults, type Reply, type ReplyFormat } from './generate';
import { messageTokens, toolDefinitionTokens, type FunctionTool, type JsonSchema, type MessageLike } from './prompt-tokens';
import type { TokenCounts } from './usage';

export interface TurnInput {
  model: string;
  messages: MessageLike[];
  tools: FunctionTool[];
  toolChoice: unknown;
  format: ReplyFormat;
  maxTokens?: number;
  stop?: string[];
  reasoningEffort?: string;
  n: number;
  /** Full prompt token count (the caller knows the endpoint's extras). */
  promptTokens: number;
}

export interface TurnPlan {
  encoding: EncodingName;
  replies: Reply[];
  /** Totals over all replies (prompt counted once). */
  counts: TokenCounts;
}

export function planTurn(ctx: RequestContext, input: TurnInput): TurnPlan {
  const encoding = encodingForModel(input.model);
  const lastRole = input.messages[input.messages.length - 1]?.role;
  const toolResults = trailingToolResults(input.messages);
  const replies: Reply[] = [];
  for (let i = 0; i < input.n; i++) {
    const rng = ctx.rng.fork(`choice-${i}`);
    replies.push(
      generateReply({
        rng,
        model: input.model,
        encoding,
        maxTokens: input.maxTokens,
        format: input.format,
        tool: chooseTool(input.tools, input.toolChoice, lastRole, rng),
        toolResults,
        stop: input.stop,
        reasoningEffort: input.reasoningEffort,
      }),
    );
  }
  const segments = [
    { key: JSON.stringify(input.tools), tokens: toolDefinitionTokens(input.tools, encoding) },
    ...input.messages.map((m) => ({ key: JSON.stringify(m), tokens: messageTokens(m, encoding, input.model) })),
  ];
  const cached = ctx.state.promptCache.lookupAndStore(input.model, segments, input.promptTokens);
  const counts: TokenCounts = { prompt: input.promptTokens, cached, output: 0, reasoning: 0 };
  for (const reply of replies) {
    counts.output += reply.outputTokens;
    counts.reasoning += reply.reasoningTokens;
  }
  ctx.state.rate.charge(counts.prompt + counts.output + counts.reasoning);
  return { encoding, replies, counts };
}

/** `response_format` (chat) or `text.format` (responses) as a reply format. */
export function replyFormat(format: unknown): ReplyFormat {
  if (!format || typeof format !== 'object') return { kind: 'text' };
  const f = format as { type?: string; json_schema?: { schema?: JsonSchema }; schema?: JsonSchema };
  if (f.type === 'json_object') return { kind: 'json' };
  if (f.type === 'json_schema') return { kind: 'json', schema: f.json_schema?.schema ?? f.schema };
  return { kind: 'text' };
}

export function stopList(stop: unknown): string[] | undefined {
  if (typeof stop === 'string') return [stop];
  if (Array.isArray(stop)) return stop.filter((s): s is string => typeof s === 'string');
  return undefined;
}
