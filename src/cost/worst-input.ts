/**
 * An upper bound on the input tokens a provider can charge for a request, for budget
 * reservations: never below what it will count. Pure, table-tested.
 *
 * - text: our tokenizer's count with the chat framing, plus a margin for provider-side counting
 *   (`INPUT_MARGIN`: tool and message formatting we cannot see, a tokenizer version apart);
 * - images: each at its largest tile or patch count for its detail level (`data/image-tokens.json`);
 * - audio: from the size of its data, at the lowest bitrate a provider accepts;
 * - anything we cannot bound (a file, an image by file id of unknown size): the model's whole
 *   context window;
 * and never above the model's context window, which the provider would refuse to exceed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The margin on counted text: 5% and 16 tokens, whichever the sum. Documented in the README. */
const INPUT_MARGIN = { fraction: 0.05, tokens: 16 } as const;

/** Audio: at most 20 tokens a second (OpenAI's audio models use 10), and at least 1 second per 1000 bytes (8 kbit/s). */
const AUDIO_TOKENS_PER_BYTE = 20 / 1000;

interface TileRule {
  base: number;
  tile: number;
}
interface PatchRule {
  max_patches: number;
  multiplier: number;
}
type ImageRule = TileRule | PatchRule;

/** The table, read once (data/image-tokens.json, found from this file in src/ and in dist/). */
const TABLE = JSON.parse(readFileSync(join(__dirname, '..', '..', 'data', 'image-tokens.json'), 'utf8')) as { max_tiles: number; models: Record<string, ImageRule> };
const PREFIXES = Object.keys(TABLE.models).sort((a, b) => b.length - a.length);

function ruleTokens(rule: ImageRule, detail: string | undefined): number {
  if ('max_patches' in rule) return Math.ceil(rule.max_patches * rule.multiplier);
  return detail === 'low' ? rule.base : rule.base + rule.tile * TABLE.max_tiles;
}

/** The largest any listed model charges for one image: the bound for models we do not know. */
const LARGEST = Math.max(...Object.values(TABLE.models).map((r) => ruleTokens(r, 'high')));

/** The most tokens one image can cost on `model` at `detail` (`low`, `high`, `auto`, or none). */
export function imageTokensUpperBound(model: string | undefined, detail: string | undefined): number {
  const m = (model ?? '').toLowerCase().replace(/^azure\//, '');
  const prefix = PREFIXES.find((p) => m === p || m.startsWith(`${p}-`));
  return prefix ? ruleTokens(TABLE.models[prefix]!, detail) : LARGEST;
}

/** What the media parts of a request hold, as far as they can be bounded. */
export interface MediaParts {
  images: Array<{ detail?: string }>;
  audioBytes: number;
  /** A part we cannot bound (a file, a document): the worst case is the context window. */
  unbounded: boolean;
}

/** The media parts of chat messages and of Responses input items. */
export function mediaParts(body: Record<string, unknown>): MediaParts {
  const out: MediaParts = { images: [], audioBytes: 0, unbounded: false };
  const visit = (part: unknown, depth: number): void => {
    if (!part || typeof part !== 'object' || depth > 4) return;
    if (Array.isArray(part)) {
      for (const p of part) visit(p, depth + 1);
      return;
    }
    const p = part as Record<string, any>;
    switch (p.type) {
      case 'image_url':
        out.images.push({ detail: p.image_url?.detail ?? p.detail });
        return;
      case 'input_image':
        out.images.push({ detail: p.detail });
        return;
      case 'input_audio': {
        const data = p.input_audio?.data ?? p.data;
        if (typeof data === 'string') out.audioBytes += Math.ceil((data.length * 3) / 4);
        else out.unbounded = true;
        return;
      }
      case 'file':
      case 'input_file':
        out.unbounded = true;
        return;
    }
    if (p.content !== undefined) visit(p.content, depth + 1);
  };
  visit(body.messages, 0);
  if (Array.isArray(body.input)) visit(body.input, 0);
  return out;
}

/**
 * The most input tokens the provider can count: `counted` (our count of the text, with framing)
 * plus the margin, the media at their worst, bounded by the context window when one is known.
 */
export function worstInputTokens(counted: number, media: MediaParts, model: string | undefined, contextWindow: number | undefined): number {
  if (media.unbounded && contextWindow) return contextWindow;
  let n = counted > 0 ? Math.ceil(counted * (1 + INPUT_MARGIN.fraction)) + INPUT_MARGIN.tokens : 0;
  for (const img of media.images) n += imageTokensUpperBound(model, img.detail);
  n += Math.ceil(media.audioBytes * AUDIO_TOKENS_PER_BYTE);
  return contextWindow ? Math.min(n, contextWindow) : n;
}

/** How many answers the request asks for: `n` (chat, completions), or `best_of` when larger. */
export function choicesOf(body: Record<string, unknown>): number {
  const n = typeof body.n === 'number' && Number.isFinite(body.n) ? Math.floor(body.n) : 1;
  const best = typeof body.best_of === 'number' && Number.isFinite(body.best_of) ? Math.floor(body.best_of) : 1;
  return Math.max(1, n, best);
}
