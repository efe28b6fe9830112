/**
 * The shape of data/prices.json (written by scripts/build-prices.mjs) and its conversion to the
 * integer form the cost maths uses. In the file, token prices are USD per 1M tokens, per_image is
 * USD per image, per_second USD per second of audio, per_character_million USD per 1M characters.
 * In a ModelPrice every figure is integer picodollars per unit (token, image, second, character).
 */
import type { ProviderName } from '../semconv';
import { type Pico, usdPerMillionToPico, usdToPico } from './money';

export interface FileTierPrice {
  input?: number;
  output?: number;
  cached_input?: number;
  cache_write?: number;
}

export interface FileLongContext extends FileTierPrice {
  above_tokens: number;
  batch?: FileTierPrice;
  priority?: FileTierPrice;
  flex?: FileTierPrice;
}

export interface FilePriceEntry extends FileTierPrice {
  reasoning?: number;
  audio_input?: number;
  audio_output?: number;
  image_input?: number;
  image_output?: number;
  tiers?: { batch?: FileTierPrice; priority?: FileTierPrice; flex?: FileTierPrice };
  long_context?: FileLongContext[];
  per_image?: Record<string, number>;
  per_second?: number;
  per_character_million?: number;
  max_input_tokens?: number;
  max_output_tokens?: number;
  mode?: string;
  source: string;
  as_of: string;
}

export interface PriceFile {
  version: string;
  generated_from: string;
  units: string;
  providers: Record<ProviderName, Record<string, FilePriceEntry>>;
}

export type TierName = 'batch' | 'priority' | 'flex';
const TIER_NAMES: readonly TierName[] = ['batch', 'priority', 'flex'];

export interface TierPrice {
  input?: Pico;
  output?: Pico;
  cachedInput?: Pico;
  cacheWrite?: Pico;
}

export interface LongContextPrice extends TierPrice {
  aboveTokens: number;
  /** Service-tier prices above the threshold, when the list gives them (e.g. priority above 272k). */
  tiers?: Partial<Record<TierName, TierPrice>>;
}

/** One model's prices; every figure in integer pUSD per unit (token, image, second, character). */
export interface ModelPrice {
  provider: ProviderName;
  model: string;
  input?: Pico;
  output?: Pico;
  cachedInput?: Pico;
  cacheWrite?: Pico;
  reasoning?: Pico;
  audioInput?: Pico;
  audioOutput?: Pico;
  imageInput?: Pico;
  imageOutput?: Pico;
  tiers?: Partial<Record<TierName, TierPrice>>;
  /** Sorted by aboveTokens, lowest first. */
  longContext?: LongContextPrice[];
  /** pUSD per image, keys as in the file ("hd/1024x1792", "1024x1024", "*"). */
  perImage?: Record<string, Pico>;
  perSecond?: Pico;
  perCharacter?: Pico;
  maxInputTokens?: number;
  maxOutputTokens?: number;
  mode?: string;
  source: string;
  asOf: string;
}

const tok = (v: number | undefined): Pico | undefined => (v === undefined ? undefined : usdPerMillionToPico(v));

/** Drops undefined fields, so entries stay small and `in` checks mean something. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function tierFromFile(t: FileTierPrice | undefined): TierPrice | undefined {
  if (!t) return undefined;
  return compact({ input: tok(t.input), output: tok(t.output), cachedInput: tok(t.cached_input), cacheWrite: tok(t.cache_write) });
}

function tiersFromFile(t: Partial<Record<TierName, FileTierPrice>>): Partial<Record<TierName, TierPrice>> | undefined {
  const out: Partial<Record<TierName, TierPrice>> = {};
  for (const name of TIER_NAMES) {
    const tier = tierFromFile(t[name]);
    if (tier) out[name] = tier;
  }
  return Object.keys(out).length ? out : undefined;
}

export function perImageFromFile(p: Record<string, number>): Record<string, Pico> {
  const out: Record<string, Pico> = {};
  for (const [key, usd] of Object.entries(p)) out[normalizeImageKey(key)] = usdToPico(usd);
  return out;
}

/** "HD/1024-x-1792" → "hd/1024x1792"; the key form perImage uses. */
export function normalizeImageKey(key: string): string {
  return key.toLowerCase().replace(/\s+/g, '').replace(/-?x-?/g, 'x');
}

export function priceFromFile(provider: ProviderName, model: string, e: FilePriceEntry): ModelPrice {
  return compact<ModelPrice>({
    provider,
    model,
    input: tok(e.input),
    output: tok(e.output),
    cachedInput: tok(e.cached_input),
    cacheWrite: tok(e.cache_write),
    reasoning: tok(e.reasoning),
    audioInput: tok(e.audio_input),
    audioOutput: tok(e.audio_output),
    imageInput: tok(e.image_input),
    imageOutput: tok(e.image_output),
    tiers: e.tiers ? tiersFromFile(e.tiers) : undefined,
    longContext: e.long_context?.map((lc) => compact<LongContextPrice>({ aboveTokens: lc.above_tokens, ...tierFromFile(lc), tiers: tiersFromFile(lc) })).sort((a, b) => a.aboveTokens - b.aboveTokens),
    perImage: e.per_image ? perImageFromFile(e.per_image) : undefined,
    perSecond: e.per_second === undefined ? undefined : usdToPico(e.per_second),
    perCharacter: tok(e.per_character_million),
    maxInputTokens: e.max_input_tokens,
    maxOutputTokens: e.max_output_tokens,
    mode: e.mode,
    source: e.source,
    asOf: e.as_of,
  });
}

/** Minimal structural check of a loaded file: enough to fail loudly on a wrong or truncated file. */
export function assertPriceFile(v: unknown, where: string): asserts v is PriceFile {
  const f = v as PriceFile;
  if (!f || typeof f !== 'object' || typeof f.version !== 'string' || !f.providers || typeof f.providers !== 'object') {
    throw new Error(`${where}: not a llm-governor price table (no version/providers)`);
  }
}
