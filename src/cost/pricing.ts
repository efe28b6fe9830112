/**
 * Pure cost maths in integer picodollars: every charge is (integer pUSD per unit) × (integer units),
 * so a call's cost is an exact integer sum.
 *
 * Billing rules:
 * - OpenAI's prompt_tokens INCLUDE cached_tokens: uncached input = input − cached − cache writes
 *   (cache writes when the provider reports them apart, at cache_write, else at the input price).
 *   Cached tokens without a cached price bill at the input price.
 * - Reasoning tokens are INSIDE completion_tokens for OpenAI and Azure: visible output =
 *   completion − reasoning. xAI reports them APART (not in completion_tokens): both bill.
 *   Reasoning bills at `reasoning` when priced apart, else at the output price; it is shown as its
 *   own part either way.
 * - Audio tokens (usage.audioInputTokens / audioOutputTokens) bill at the audio prices and come out
 *   of the text counts, when the model has an audio price (else they stay text). Image input tokens
 *   likewise (gpt-image: usage.inputTokens includes usage.imageInputTokens). When `imageOutput` is
 *   priced, output tokens are image tokens.
 * - Long-context prices apply to the WHOLE call when input tokens are above a threshold (the
 *   highest threshold passed). Service-tier prices (priority / flex / batch) apply when the
 *   response's service_tier names that tier and the tier has that price, else the standard price.
 *   Above a threshold the list's tier-above-threshold price is used when given; when it is not, the
 *   higher of the tier price and the long-context price (the list has no combined figure).
 * - Embeddings bill input only; moderation is free.
 * - Whisper-style audio: seconds (rounded to the nearest second, at least 1) × perSecond.
 *   Speech (tts): characters × perCharacter. Token prices apply too where the model has them; a
 *   speech call's output tokens are audio tokens unless the usage splits them.
 * - Images without token usage: count × perImage[`${quality}/${size}`] (then `${size}`, then the
 *   "*" default, then the dearest price for what is known). Quality defaults to 'standard' for
 *   dall-e-3 style tables (they have 'hd/' keys); 'auto' or a missing quality / size otherwise
 *   means "unknown".
 */
import type { Usage } from '../operations/record';
import { type OperationName, OPERATION, PROVIDER, type ProviderName } from '../semconv';
import type { Pico } from './money';
import { type LongContextPrice, type ModelPrice, normalizeImageKey, type TierName, type TierPrice } from './price-schema';

export interface CostInput {
  provider: ProviderName;
  operation: OperationName;
  usage: Usage;
  /** The response's service_tier: 'priority' | 'flex' | 'batch' | 'default' | 'scale' | undefined. */
  serviceTier?: string;
  /** For image_generation / image_edit billed per image (no token usage). */
  images?: { count: number; size?: string; quality?: string };
  /** text_to_speech input characters. */
  characters?: number;
}

export type CostPart = 'input' | 'cached_input' | 'cache_write' | 'output' | 'reasoning' | 'audio_input' | 'audio_output' | 'image_input' | 'image_output' | 'images' | 'audio_seconds' | 'characters';

export interface Cost {
  pico: Pico;
  parts: Partial<Record<CostPart, Pico>>;
}

export interface WorstCaseInput {
  operation: OperationName;
  inputTokens: number;
  maxOutputTokens?: number;
  /** Answers asked for (`n`): each may use every output token. Default 1. */
  choices?: number;
  images?: { count: number; size?: string; quality?: string };
  characters?: number;
  audioSeconds?: number;
  serviceTier?: string;
}

/** Output tokens assumed when neither the request nor the table gives a limit. */
const DEFAULT_MAX_OUTPUT_TOKENS = 4096;

const count = (v: number | undefined): number => (v !== undefined && v > 0 ? Math.round(v) : 0);

function tierOf(serviceTier: string | undefined): TierName | undefined {
  return serviceTier === 'priority' || serviceTier === 'flex' || serviceTier === 'batch' ? serviceTier : undefined;
}

const withTier = (base: TierPrice, over: TierPrice | undefined): TierPrice => {
  if (!over) return base;
  const out = { ...base };
  for (const k of ['input', 'output', 'cachedInput', 'cacheWrite'] as const) if (over[k] !== undefined) out[k] = over[k];
  return out;
};

/** The token rates (pUSD per token) a call pays, after long-context thresholds and service tiers. */
function effectiveRates(price: ModelPrice, inputTokens: number, serviceTier?: string): TierPrice {
  const standard: TierPrice = { input: price.input, output: price.output, cachedInput: price.cachedInput, cacheWrite: price.cacheWrite };
  const tier = tierOf(serviceTier);
  const tierPrice = tier ? price.tiers?.[tier] : undefined;
  let lc: LongContextPrice | undefined;
  for (const l of price.longContext ?? []) if (inputTokens > l.aboveTokens) lc = l;
  if (!lc) return withTier(standard, tierPrice);
  const long = withTier(standard, lc);
  if (!tier) return long;
  const longTier = lc.tiers?.[tier];
  if (longTier) return withTier(long, longTier);
  if (!tierPrice) return long;
  const short = withTier(standard, tierPrice);
  const out: TierPrice = {};
  for (const k of ['input', 'output', 'cachedInput', 'cacheWrite'] as const) {
    const a = long[k];
    const b = short[k];
    out[k] = a === undefined ? b : b === undefined ? a : Math.max(a, b);
  }
  return out;
}

export function computeCost(price: ModelPrice, input: CostInput): Cost {
  const parts: Cost['parts'] = {};
  if (input.operation === OPERATION.MODERATION) return { pico: 0, parts };
  const add = (part: CostPart, units: number, rate: Pico | undefined) => {
    if (units > 0 && rate !== undefined) parts[part] = (parts[part] ?? 0) + units * rate;
  };
  const u = input.usage;
  const inputTokens = count(u.inputTokens);
  const r = effectiveRates(price, inputTokens, input.serviceTier);

  // Input side: split the prompt into cached, cache-write, audio, image and plain text tokens.
  let text = inputTokens;
  const take = (n: number) => {
    const t = Math.min(n, text);
    text -= t;
    return t;
  };
  const cached = take(count(u.cachedInputTokens));
  const written = take(count(u.cacheWriteInputTokens));
  const audioIn = price.audioInput !== undefined ? take(count(u.audioInputTokens)) : 0;
  const imageIn = price.imageInput !== undefined ? take(count(u.imageInputTokens)) : 0;
  add('input', text, r.input);
  add('cached_input', cached, r.cachedInput ?? r.input);
  add('cache_write', written, r.cacheWrite ?? r.input);
  add('audio_input', audioIn, price.audioInput);
  add('image_input', imageIn, price.imageInput);

  if (input.operation !== OPERATION.EMBEDDINGS) {
    // Output side.
    const completion = count(u.outputTokens);
    const isImageOp = input.operation === OPERATION.IMAGE_GENERATION || input.operation === OPERATION.IMAGE_EDIT;
    if (price.imageOutput !== undefined && completion > 0) {
      add('image_output', completion, price.imageOutput);
    } else {
      const reasoningApart = input.provider === PROVIDER.XAI;
      const reasoning = reasoningApart ? count(u.reasoningTokens) : Math.min(count(u.reasoningTokens), completion);
      let visible = reasoningApart ? completion : completion - reasoning;
      // A speech call's output is audio: without an audio split, all its output tokens are audio.
      const audioReported = u.audioOutputTokens ?? (input.operation === OPERATION.SPEECH ? visible : 0);
      const audioOut = price.audioOutput !== undefined ? Math.min(count(audioReported), visible) : 0;
      visible -= audioOut;
      add('output', visible, r.output);
      add('reasoning', reasoning, price.reasoning ?? r.output);
      add('audio_output', audioOut, price.audioOutput);
      if (isImageOp && price.perImage) {
        const n = input.images?.count ?? u.images ?? 1;
        add('images', count(n), imageUnitPrice(price, input.images?.size, input.images?.quality, false));
      }
    }
    const seconds = u.audioSeconds ?? 0;
    if (seconds > 0) add('audio_seconds', Math.max(1, Math.round(seconds)), price.perSecond);
    add('characters', count(input.characters), price.perCharacter);
  }
  let pico = 0;
  for (const v of Object.values(parts)) pico += v;
  return { pico, parts };
}

/**
 * The most a call can cost: all input as uncached text at the input price (audio price for
 * transcriptions, if higher), plus (maxOutputTokens ?? the model's max ?? 4096) tokens at the output
 * price (or reasoning / audio / image output price, if higher), with long-context and tier prices as
 * for the real call; images, characters and seconds likewise.
 */
export function worstCaseCost(price: ModelPrice, w: WorstCaseInput): Pico {
  if (w.operation === OPERATION.MODERATION) return 0;
  const inputTokens = count(w.inputTokens);
  const r = effectiveRates(price, inputTokens, w.serviceTier);
  const audioOp = w.operation === OPERATION.AUDIO_TRANSCRIPTION || w.operation === OPERATION.AUDIO_TRANSLATION;
  let total = inputTokens * Math.max(r.input ?? 0, audioOp ? (price.audioInput ?? 0) : 0);
  if (w.operation === OPERATION.EMBEDDINGS) return total;
  const isImageOp = w.operation === OPERATION.IMAGE_GENERATION || w.operation === OPERATION.IMAGE_EDIT;
  if (isImageOp && price.perImage) {
    total += count(w.images?.count ?? 1) * (imageUnitPrice(price, w.images?.size, w.images?.quality, true) ?? 0);
  } else {
    const maxOut = count(w.maxOutputTokens ?? price.maxOutputTokens ?? DEFAULT_MAX_OUTPUT_TOKENS);
    total += maxOut * Math.max(1, count(w.choices ?? 1)) * worstOutputRate(price, r, w.operation);
  }
  if (w.audioSeconds !== undefined && w.audioSeconds > 0) total += Math.max(1, Math.round(w.audioSeconds)) * (price.perSecond ?? 0);
  total += count(w.characters) * (price.perCharacter ?? 0);
  return total;
}

/**
 * The largest output token count (per answer, of `choices`) whose worst case (chat-style) fits
 * `budget`; 0 if the input alone does not.
 */
export function maxOutputTokensWithin(price: ModelPrice, budget: Pico, inputTokens: number, serviceTier?: string, choices = 1): number {
  const r = effectiveRates(price, count(inputTokens), serviceTier);
  const inputCost = count(inputTokens) * (r.input ?? 0);
  if (inputCost > budget) return 0;
  const cap = price.maxOutputTokens ?? Number.MAX_SAFE_INTEGER;
  const rate = worstOutputRate(price, r, OPERATION.CHAT);
  if (rate <= 0) return cap;
  return Math.min(cap, Math.floor((budget - inputCost) / (rate * Math.max(1, Math.round(choices)))));
}

function worstOutputRate(price: ModelPrice, r: TierPrice, operation: OperationName): Pico {
  let rate = Math.max(r.output ?? 0, price.reasoning ?? 0);
  if (operation === OPERATION.SPEECH) rate = Math.max(rate, price.audioOutput ?? 0);
  if (operation === OPERATION.IMAGE_GENERATION || operation === OPERATION.IMAGE_EDIT) rate = Math.max(rate, price.imageOutput ?? 0);
  return rate;
}

const QUALITIES = new Set(['standard', 'hd', 'low', 'medium', 'high']);

/** '1024-x-1024' / '1024x1024' / '1024 x 1024' → '1024x1024'; 'auto' or junk → undefined. */
function normalizeSize(size: string | undefined): string | undefined {
  if (!size) return undefined;
  const s = normalizeImageKey(size);
  return /^\d+x\d+$/.test(s) ? s : undefined;
}

function normalizeQuality(quality: string | undefined): string | undefined {
  const q = quality?.toLowerCase().trim();
  return q && QUALITIES.has(q) ? q : undefined;
}

/**
 * The price of one image. `worst`: the dearest price consistent with what is known (for budgets);
 * otherwise the exact key, then the size alone, then the "*" default, then the dearest match.
 */
function imageUnitPrice(price: ModelPrice, size: string | undefined, quality: string | undefined, worst: boolean): Pico | undefined {
  const table = price.perImage;
  if (!table) return undefined;
  const keys = Object.keys(table);
  const s = normalizeSize(size);
  let q = normalizeQuality(quality);
  if (!q && keys.some((k) => k.startsWith('hd/'))) q = 'standard'; // dall-e-3's default quality
  const exact = s ?? (worst ? undefined : '1024x1024'); // dall-e's default size
  if (exact) {
    const hit = (q !== undefined ? table[`${q}/${exact}`] : undefined) ?? table[exact];
    if (hit !== undefined && (q !== undefined || !worst || !keys.some((k) => k.endsWith(`/${exact}`)))) return hit;
  }
  if (!worst && table['*'] !== undefined) return table['*'];
  const matches = (k: string) => {
    const [kq, ks] = k.includes('/') ? k.split('/') : [undefined, k];
    return (!s || ks === s) && (!q || kq === undefined || kq === q);
  };
  const dearest = (pred: (k: string) => boolean) => keys.filter(pred).reduce<Pico | undefined>((m, k) => Math.max(m ?? 0, table[k]!), undefined);
  return dearest((k) => k !== '*' && matches(k)) ?? dearest(() => true);
}
