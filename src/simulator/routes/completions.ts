/** POST completions (legacy text completions, e.g. gpt-3.5-turbo-instruct), non-stream and stream. */
import { unixNow, type RequestContext } from '../context';
import { sendError, sendJson } from '../http';
import { missingParameter } from '../errors';
import { chunkFrames, sendSse } from '../sse';
import { encodingForModel, snapshotOf } from '../models';
import { countTokens, splitIntoTokenPieces } from '../tokens';
import { generateReply } from '../generate';
import { stopList } from '../turn';
import { legacyUsage } from '../usage';

/** The legacy endpoint's default output budget. */
const DEFAULT_MAX_TOKENS = 16;

type Prompt = string | number[];

function promptList(prompt: unknown): Prompt[] {
  if (typeof prompt === 'string') return [prompt];
  if (Array.isArray(prompt)) {
    if (prompt.length === 0) return [''];
    if (prompt.every((p) => typeof p === 'number')) return [prompt as number[]];
    return prompt.filter((p): p is Prompt => typeof p === 'string' || Array.isArray(p));
  }
  return ['<|endoftext|>'];
}

interface LegacyChoice {
  text: string;
  index: number;
  finishReason: string;
  tokens: number;
}

export async function handleCompletions(ctx: RequestContext): Promise<void> {
  const { body } = ctx;
  const model = ctx.model;
  if (!model) return sendError(ctx, missingParameter('model'));
  const encoding = encodingForModel(model);
  const prompts = promptList(body.prompt);
  const n: number = body.n ?? 1;
  const promptTokens = prompts.reduce((sum, p) => sum + (typeof p === 'string' ? countTokens(p, encoding) : p.length), 0);

  const choices: LegacyChoice[] = [];
  prompts.forEach((prompt, p) => {
    for (let j = 0; j < n; j++) {
      const index = p * n + j;
      const reply = generateReply({
        rng: ctx.rng.fork(`choice-${index}`),
        model,
        encoding,
        format: { kind: 'text' },
        maxTokens: body.max_tokens ?? DEFAULT_MAX_TOKENS,
        stop: stopList(body.stop),
      });
      const echo = body.echo === true && typeof prompt === 'string' ? prompt : '';
      choices.push({ text: echo + (reply.text ?? ''), index, finishReason: reply.finishReason, tokens: reply.outputTokens });
    }
  });
  const completionTokens = choices.reduce((sum, c) => sum + c.tokens, 0);
  ctx.state.rate.charge(promptTokens + completionTokens);
  const usage = ctx.omitUsage ? undefined : legacyUsage(promptTokens, completionTokens);
  const head = { id: `cmpl-${ctx.ids.id(29)}`, object: 'text_completion', created: unixNow() };
  const snapshot = snapshotOf(model);

  if (body.stream === true) {
    const chunk = (index: number, text: string, finish: string | null) => ({
      ...head,
      choices: [{ text, index, logprobs: null, finish_reason: finish }],
      model: snapshot,
    });
    const chunks = choices.flatMap((c) => splitIntoTokenPieces(c.text, encoding).map((piece) => chunk(c.index, piece, null)));
    for (const c of choices) chunks.push(chunk(c.index, '', c.finishReason));
    return sendSse(ctx, chunkFrames(chunks, usage, body.stream_options?.include_usage === true));
  }
  sendJson(ctx, 200, {
    ...head,
    model: snapshot,
    choices: choices.map((c) => ({ text: c.text, index: c.index, logprobs: null, finish_reason: c.finishReason })),
    ...(usage ? { usage } : {}),
  });
}
