import { describe, expect, it } from 'vitest';
import { countTokens, splitIntoTokenPieces, truncateToTokens } from '../../src/simulator/tokens';
import { encodingForModel, isReasoningModel, snapshotOf } from '../../src/simulator/models';
import { chatPromptTokens, functionTools, renderToolDefinitions, toolCallTokens, responsesPromptTokens } from '../../src/simulator/prompt-tokens';
import { recording } from './helpers';

describe('countTokens', () => {
  it.each([
    ['Answer in up to 3 words: Which ocean contains Bouvet Island?', 'o200k_base', 15],
    ['Atlantic Ocean.', 'o200k_base', 3],
    ['South Atlantic Ocean.', 'o200k_base', 4],
    ['One fish', 'cl100k_base', 2],
    ['', 'o200k_base', 0],
  ] as const)('%j (%s) -> %i', (text, encoding, n) => {
    expect(countTokens(text, encoding)).toBe(n);
  });

  it('splits text into per-token pieces that join back losslessly (incl. multi-byte)', () => {
    for (const text of ['Atlantic Ocean.', 'Bogotá ☕ 東京', 'The weather in New York City is 25 degrees']) {
      const pieces = splitIntoTokenPieces(text, 'o200k_base');
      expect(pieces.join('')).toBe(text);
      expect(pieces.length).toBeGreaterThan(1);
    }
    expect(splitIntoTokenPieces('Atlantic Ocean.', 'o200k_base')).toEqual(['Atlantic', ' Ocean', '.']);
  });

  it('truncates to a token budget', () => {
    const text = 'The weather in New York City is 25 degrees and sunny.';
    expect(countTokens(truncateToTokens(text, 4, 'o200k_base'), 'o200k_base')).toBe(4);
    expect(truncateToTokens(text, 100, 'o200k_base')).toBe(text);
    expect(truncateToTokens(text, 0, 'o200k_base')).toBe('');
  });
});

describe('models', () => {
  it.each([
    ['gpt-4o-mini', 'o200k_base', 'gpt-4o-mini-2024-07-18', false],
    ['gpt-4o', 'o200k_base', 'gpt-4o-2024-08-06', false],
    ['gpt-4.1-nano', 'o200k_base', 'gpt-4.1-nano-2025-04-14', false],
    ['gpt-5-mini', 'o200k_base', 'gpt-5-mini-2025-08-07', true],
    ['o4-mini', 'o200k_base', 'o4-mini-2025-04-16', true],
    ['gpt-4', 'cl100k_base', 'gpt-4-0613', false],
    ['gpt-4-turbo', 'cl100k_base', 'gpt-4-turbo-2024-04-09', false],
    ['gpt-3.5-turbo', 'cl100k_base', 'gpt-3.5-turbo-0125', false],
    ['gpt-3.5-turbo-instruct', 'cl100k_base', 'gpt-3.5-turbo-instruct:20230824-v2', false],
    ['text-embedding-3-small', 'cl100k_base', 'text-embedding-3-small', false],
    ['grok-3', 'o200k_base', 'grok-3', false],
    ['grok-3-mini', 'o200k_base', 'grok-3-mini', true],
    ['grok-4', 'o200k_base', 'grok-4-0709', true],
    ['my-custom-model', 'o200k_base', 'my-custom-model', false],
  ] as const)('%s: %s, snapshot %s, reasoning %s', (model, encoding, snapshot, reasoning) => {
    expect(encodingForModel(model)).toBe(encoding);
    expect(snapshotOf(model)).toBe(snapshot);
    expect(isReasoningModel(model)).toBe(reasoning);
  });
});

describe('prompt token calibration against the recordings', () => {
  const chatCases = [
    'openai-chat-completions-adds-genai-conventions',
    'openai-chat-completions-adds-genai-conventions-with-system-message',
    'openai-chat-completions-records-multiple-choices',
    'openai-chat-completions-records-all-the-client-options',
    'openai-chat-completions-records-tool-calls',
    'openai-chat-completions-with-content-capture-records-tool-calls',
  ].flatMap((name) => recording(name).map((exchange, i) => [`${name}#${i}`, exchange] as const));

  it.each(chatCases)('%s', (_name, exchange) => {
    const { messages, tools, model } = exchange.request;
    const simulated = chatPromptTokens(messages, functionTools(tools), encodingForModel(model), model);
    expect(simulated).toBe(exchange.response.usage.prompt_tokens);
  });

  it.each(['openai-responses-adds-genai-conventions', 'openai-responses-records-all-the-client-options', 'openai-responses-records-system-instructions'])('%s', (name) => {
    const [exchange] = recording(name);
    const simulated = responsesPromptTokens(exchange!.request, 'o200k_base', exchange!.request.model);
    expect(simulated).toBe(exchange!.response.usage.input_tokens);
  });

  it('counts the recorded completions: text as its tokens, the parallel tool call as 46', () => {
    const [call] = recording('openai-chat-completions-records-tool-calls');
    expect(toolCallTokens(call!.response.choices[0].message.tool_calls, 'o200k_base')).toBe(call!.response.usage.completion_tokens);
    for (const name of ['openai-chat-completions-adds-genai-conventions', 'openai-chat-completions-adds-records-multiple-choices', 'openai-chat-completions-records-multiple-choices']) {
      const [exchange] = recording(name);
      const text = exchange!.response.choices.reduce((sum: number, c: any) => sum + countTokens(c.message.content, 'o200k_base'), 0);
      expect(text).toBe(exchange!.response.usage.completion_tokens);
    }
  });

  it('renders tool definitions as a TypeScript-like namespace', () => {
    const tools = functionTools([
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Get weather',
          parameters: { type: 'object', properties: { location: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } }, required: ['location'] },
        },
      },
      { type: 'function', name: 'ping' },
      { type: 'web_search' },
    ]);
    expect(tools.map((t) => t.name)).toEqual(['get_weather', 'ping']);
    expect(renderToolDefinitions(tools)).toBe(
      '# Tools\n\n## functions\n\nnamespace functions {\n\n// Get weather\ntype get_weather = (_: {\nlocation: string,\nunit?: "c" | "f",\n}) => any;\n\ntype ping = () => any;\n\n} // namespace functions',
    );
  });
});
