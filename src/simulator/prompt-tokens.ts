/**
 * Prompt token accounting for chat-style inputs, calibrated against the recorded exchanges
 * (see test/simulator/calibration.test.ts):
 *   every message costs PER_MESSAGE + tokens(role) + tokens(content) [+ PER_NAME + tokens(name)],
 *   the reply is primed with REPLY_PRIMING tokens, tool definitions are rendered as a TypeScript-like
 *   namespace, tool calls as their arguments (or a parallel-call JSON when there are several).
 */
import { countTokens } from './tokens';
import { imageTokenCosts, type EncodingName } from './models';

const OVERHEAD = {
  perMessage: 3,
  perName: 1,
  replyPriming: 3,
  /** Added to the tokens of the rendered tool namespace (calibrated: 57 for the weather-tool recording). */
  toolDefinitions: -2,
  /** Added to the tokens of rendered tool calls, in prompts and completions (46 for the recorded parallel call). */
  toolCalls: 10,
  /** Extra tokens of a `tool` result message (calibrated: 125 for the tool follow-up recording). */
  toolResult: 1,
  /** Extra tokens of the Responses API `instructions` (calibrated: 28 for the system-instructions recording). */
  instructions: 2,
} as const;

export interface ToolCallLike {
  function?: { name?: string; arguments?: string };
  name?: string;
  arguments?: string;
}

export interface MessageLike {
  role?: string;
  content?: unknown;
  name?: string;
  tool_calls?: ToolCallLike[];
}

export interface FunctionTool {
  name: string;
  description?: string;
  parameters?: JsonSchema;
}

export interface JsonSchema {
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  [key: string]: unknown;
}

/** Function tools from either the Chat (`{type, function: {...}}`) or the Responses (`{type, name, ...}`) shape. */
export function functionTools(tools: unknown): FunctionTool[] {
  if (!Array.isArray(tools)) return [];
  const out: FunctionTool[] = [];
  for (const tool of tools as Array<Record<string, any>>) {
    if (tool?.type !== 'function') continue;
    const def = (tool.function ?? tool) as Record<string, any>;
    if (typeof def.name === 'string') out.push({ name: def.name, description: def.description, parameters: def.parameters });
  }
  return out;
}

export function renderToolDefinitions(tools: FunctionTool[]): string {
  const blocks = tools.map((tool) => {
    const doc = tool.description ? `// ${tool.description}\n` : '';
    const props = tool.parameters?.properties;
    const args = props && Object.keys(props).length > 0 ? `_: ${renderObject(tool.parameters!)}` : '';
    return `${doc}type ${tool.name} = (${args}) => any;`;
  });
  return `# Tools\n\n## functions\n\nnamespace functions {\n\n${blocks.join('\n\n')}\n\n} // namespace functions`;
}

function renderObject(schema: JsonSchema): string {
  const required = new Set(schema.required ?? []);
  const lines = Object.entries(schema.properties ?? {}).map(([key, prop]) => {
    const doc = prop.description ? `// ${prop.description}\n` : '';
    return `${doc}${key}${required.has(key) ? '' : '?'}: ${renderType(prop)},`;
  });
  return `{\n${lines.join('\n')}\n}`;
}

function renderType(schema: JsonSchema): string {
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (Array.isArray(schema.anyOf)) return schema.anyOf.map(renderType).join(' | ');
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'integer':
    case 'number':
      return 'number';
    case 'string':
    case 'boolean':
    case 'null':
      return type;
    case 'array':
      return `${schema.items ? renderType(schema.items) : 'any'}[]`;
    case 'object':
      return schema.properties ? renderObject(schema) : 'object';
    default:
      return 'any';
  }
}

/** How tool calls appear to the model: the arguments, or a parallel-call wrapper for several calls. */
function renderToolCalls(calls: ToolCallLike[]): string {
  const norm = calls.map((c) => ({ name: c.function?.name ?? c.name ?? '', args: c.function?.arguments ?? c.arguments ?? '{}' }));
  if (norm.length === 1) return norm[0]!.args;
  const uses = norm.map((c) => `{"recipient_name":"functions.${c.name}","parameters":${compactJson(c.args)}}`);
  return `{"tool_uses":[${uses.join(',')}]}`;
}

function compactJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text;
  }
}

export function toolCallTokens(calls: ToolCallLike[], encoding: EncodingName): number {
  return calls.length === 0 ? 0 : countTokens(renderToolCalls(calls), encoding) + OVERHEAD.toolCalls;
}

export function toolDefinitionTokens(tools: FunctionTool[], encoding: EncodingName): number {
  return tools.length === 0 ? 0 : countTokens(renderToolDefinitions(tools), encoding) + OVERHEAD.toolDefinitions;
}

/** Tokens of message content: a string, or an array of text / image parts. */
function contentTokens(content: unknown, encoding: EncodingName, model: string): number {
  if (typeof content === 'string') return countTokens(content, encoding);
  if (!Array.isArray(content)) return 0;
  let total = 0;
  for (const part of content as Array<Record<string, any>>) {
    if (!part || typeof part !== 'object') continue;
    const text = part.text ?? part.refusal;
    if (typeof text === 'string') total += countTokens(text, encoding);
    else if (part.type === 'image_url' || part.type === 'input_image') {
      total += imageTokens(model, part.image_url?.detail ?? part.detail);
    }
  }
  return total;
}

/** Vision cost assuming one 512px tile ("low" detail: the base cost only). */
export function imageTokens(model: string, detail: unknown): number {
  const [base, tile] = imageTokenCosts(model);
  return detail === 'low' ? base : base + tile;
}

export function messageTokens(message: MessageLike, encoding: EncodingName, model: string): number {
  let total = OVERHEAD.perMessage + countTokens(message.role ?? 'user', encoding);
  total += contentTokens(message.content, encoding, model);
  if (message.name) total += OVERHEAD.perName + countTokens(message.name, encoding);
  if (Array.isArray(message.tool_calls)) total += toolCallTokens(message.tool_calls, encoding);
  if (message.role === 'tool') total += OVERHEAD.toolResult;
  return total;
}

export function chatPromptTokens(messages: MessageLike[], tools: FunctionTool[], encoding: EncodingName, model: string): number {
  let total = OVERHEAD.replyPriming + toolDefinitionTokens(tools, encoding);
  for (const message of messages) total += messageTokens(message, encoding, model);
  return total;
}

/** Responses API `input` as chat messages, for counting and for picking the reply mode. */
export function responsesInputMessages(input: unknown): MessageLike[] {
  const messages: MessageLike[] = [];
  if (typeof input === 'string') messages.push({ role: 'user', content: input });
  else if (Array.isArray(input)) {
    for (const item of input as Array<Record<string, any>>) {
      if (!item || typeof item !== 'object') continue;
      if (item.type === 'function_call') messages.push({ role: 'assistant', tool_calls: [{ name: item.name, arguments: item.arguments }] });
      else if (item.type === 'function_call_output') messages.push({ role: 'tool', content: String(item.output ?? '') });
      else if (typeof item.role === 'string') messages.push({ role: item.role, content: item.content });
    }
  }
  return messages;
}

export function responsesPromptTokens(body: Record<string, any>, encoding: EncodingName, model: string): number {
  const tools = functionTools(body.tools);
  let total = chatPromptTokens(responsesInputMessages(body.input), tools, encoding, model);
  if (typeof body.instructions === 'string' && body.instructions) {
    total += messageTokens({ role: 'system', content: body.instructions }, encoding, model) + OVERHEAD.instructions;
  }
  return total;
}
