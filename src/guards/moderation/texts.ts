import { OPERATION } from '../../semconv';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null;

/** Content-part types that carry the user's text (chat: `text`; Responses: `input_text`). */
const TEXT_PARTS = new Set(['text', 'input_text']);

/** Non-blank strings only: blank text has nothing to moderate. */
const keep = (texts: string[]): string[] => texts.filter((t) => t.trim() !== '');

/**
 * The text of one user message's `content`: a string, or the text parts of a parts array joined
 * by newlines (images, audio and files are ignored). One message gives one text.
 */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const parts: string[] = [];
  for (const part of content) {
    if (isObj(part) && typeof part.type === 'string' && TEXT_PARTS.has(part.type) && typeof part.text === 'string') parts.push(part.text);
  }
  return parts.join('\n');
}

/** Chat completions: the `user` messages only (system, developer, assistant and tool are ours or the model's). */
function chatTexts(body: Obj): string[] {
  if (!Array.isArray(body.messages)) return [];
  const texts: string[] = [];
  for (const m of body.messages) if (isObj(m) && m.role === 'user') texts.push(contentText(m.content));
  return texts;
}

/**
 * The Responses API: `input` as a string (the user's), or items; of those, messages with role
 * `user` (tool outputs, earlier model output and `instructions` are not the user's text).
 */
function responsesTexts(body: Obj): string[] {
  const input = body.input;
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input)) return [];
  const texts: string[] = [];
  for (const item of input) {
    if (isObj(item) && item.role === 'user' && (item.type === undefined || item.type === 'message')) texts.push(contentText(item.content));
  }
  return texts;
}

/** A `prompt` that is a string or (legacy completions) an array of strings; token arrays are skipped. */
function promptTexts(prompt: unknown, allowArray: boolean): string[] {
  if (typeof prompt === 'string') return [prompt];
  if (allowArray && Array.isArray(prompt)) return prompt.filter((p): p is string => typeof p === 'string');
  return [];
}

/** Does the request path name the Responses API (Azure's `/deployments/{name}/…` included)? */
const isResponsesPath = (path: string): boolean => /\/responses\/?$/.test(path);

/**
 * The user-supplied text of a request body, per operation name (`gen_ai.operation.name`; the
 * Responses API is `chat` too, told apart by its path). Pure. Operations with no user text to
 * moderate (embeddings, audio, moderation itself, anything else) give `[]`, as does a body in a
 * shape we do not know. Blank texts are dropped.
 */
export function userTexts(operation: string, path: string, body: Record<string, unknown>): string[] {
  if (!isObj(body)) return [];
  switch (operation) {
    case OPERATION.CHAT:
      return keep(isResponsesPath(path) ? responsesTexts(body) : chatTexts(body));
    case OPERATION.TEXT_COMPLETION:
      return keep(promptTexts(body.prompt, true));
    case OPERATION.IMAGE_GENERATION:
    case OPERATION.IMAGE_EDIT:
      return keep(promptTexts(body.prompt, false));
    default:
      return [];
  }
}
