/** One generated reply (text, JSON or a tool call), with its token accounting. Shared by all text endpoints. */
import type { Prng } from './prng';
import { isReasoningModel, type EncodingName } from './models';
import { countTokens, truncateToTokens } from './tokens';
import { generateSentences } from './text';
import { jsonText, valueForSchema } from './json-gen';
import { toolCallTokens, type FunctionTool, type JsonSchema } from './prompt-tokens';

export type ReplyFormat = { kind: 'text' } | { kind: 'json'; schema?: JsonSchema };

export interface ReplyRequest {
  rng: Prng;
  model: string;
  encoding: EncodingName;
  /** Output budget including reasoning tokens (max_tokens / max_completion_tokens / max_output_tokens). */
  maxTokens?: number;
  format: ReplyFormat;
  /** When set, the reply is a call of this tool. */
  tool?: FunctionTool;
  /** Tool results the reply should mention (the conversation ended with tool messages). */
  toolResults?: string[];
  stop?: string[];
  reasoningEffort?: string;
}

export interface ToolCallReply {
  id: string;
  name: string;
  arguments: string;
}

export interface Reply {
  text: string | null;
  toolCall?: ToolCallReply;
  /** Visible reasoning text (grok-3-mini's `reasoning_content`). */
  reasoningContent?: string;
  reasoningTokens: number;
  /** Tokens of the visible output (text or tool call), excluding reasoning. */
  outputTokens: number;
  finishReason: 'stop' | 'length' | 'tool_calls';
}

const EFFORT_FACTOR: Record<string, number> = { minimal: 0, none: 0, low: 0.5, medium: 1, high: 2 };

export function generateReply(req: ReplyRequest): Reply {
  const { rng, encoding } = req;
  let reasoningTokens = 0;
  if (isReasoningModel(req.model)) {
    reasoningTokens = rng.int(2, 8) * 64 * (EFFORT_FACTOR[req.reasoningEffort ?? 'medium'] ?? 1);
  }
  const reasoningContent = req.model.startsWith('grok-3-mini') ? generateSentences(rng.fork('reasoning'), 24, encoding) : undefined;
  const budget = req.maxTokens;
  if (budget !== undefined && reasoningTokens >= budget) {
    return { text: req.tool ? null : '', reasoningContent, reasoningTokens: budget, outputTokens: 0, finishReason: 'length' };
  }
  const remaining = budget === undefined ? undefined : budget - reasoningTokens;
  return req.tool ? toolReply(req, req.tool, reasoningTokens, reasoningContent, remaining) : textReply(req, reasoningTokens, reasoningContent, remaining);
}

function toolReply(req: ReplyRequest, tool: FunctionTool, reasoningTokens: number, reasoningContent: string | undefined, remaining?: number): Reply {
  const args = JSON.stringify(valueForSchema(tool.parameters ?? { type: 'object', properties: {} }, req.rng.fork('args')));
  const call = { id: `call_${req.rng.id(24)}`, name: tool.name, arguments: args };
  const tokens = toolCallTokens([call], req.encoding);
  if (remaining !== undefined && tokens > remaining) {
    const cut = truncateToTokens(args, Math.max(0, remaining - (tokens - countTokens(args, req.encoding))), req.encoding);
    return { text: null, toolCall: { ...call, arguments: cut }, reasoningContent, reasoningTokens, outputTokens: remaining, finishReason: 'length' };
  }
  return { text: null, toolCall: call, reasoningContent, reasoningTokens, outputTokens: tokens, finishReason: 'tool_calls' };
}

function textReply(req: ReplyRequest, reasoningTokens: number, reasoningContent: string | undefined, remaining?: number): Reply {
  const target = req.rng.int(15, 45);
  let text: string;
  if (req.format.kind === 'json') text = jsonText(req.rng, req.format.schema, req.encoding, target);
  else {
    const prefix = req.toolResults?.length ? `Based on the tool results: ${req.toolResults.join('; ')}.` : '';
    text = generateSentences(req.rng, target, req.encoding, prefix);
  }
  let finishReason: Reply['finishReason'] = 'stop';
  for (const stop of req.stop ?? []) {
    const at = stop ? text.indexOf(stop) : -1;
    if (at >= 0) text = text.slice(0, at);
  }
  if (remaining !== undefined && countTokens(text, req.encoding) > remaining) {
    text = truncateToTokens(text, remaining, req.encoding);
    finishReason = 'length';
  }
  return { text, reasoningContent, reasoningTokens, outputTokens: countTokens(text, req.encoding), finishReason };
}

/**
 * Which tool (if any) the reply calls: a named `tool_choice` or `required` always calls; otherwise a
 * call happens when tools are offered and the conversation ends with a user turn (not a tool result).
 */
export function chooseTool(tools: FunctionTool[], toolChoice: unknown, lastRole: string | undefined, rng: Prng): FunctionTool | undefined {
  if (tools.length === 0 || toolChoice === 'none') return undefined;
  if (toolChoice && typeof toolChoice === 'object') {
    const choice = toolChoice as { name?: string; function?: { name?: string } };
    const name = choice.function?.name ?? choice.name;
    if (name) return tools.find((t) => t.name === name);
  }
  if (toolChoice === 'required' || lastRole === 'user') return tools[rng.int(0, tools.length - 1)];
  return undefined;
}

/** Contents of the tool results that end a conversation. */
export function trailingToolResults(messages: Array<{ role?: string; content?: unknown }>): string[] {
  const out: string[] = [];
  for (let i = messages.length - 1; i >= 0 && messages[i]?.role === 'tool'; i--) {
    const content = messages[i]!.content;
    out.unshift(typeof content === 'string' ? content : JSON.stringify(content));
  }
  return out;
}
