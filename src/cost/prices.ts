/**
 * The price table: the bundled data/prices.json (built by scripts/build-prices.mjs from LiteLLM's
 * list, with its source and date on every entry), plus the user's overrides, and the per-call lookup.
 *
 * Lookup order for (provider, model), case-insensitive:
 *   1. the exact model in that provider's table;
 *   2. the model with its snapshot suffix folded away, step by step ('gpt-4o-mini-2024-07-18' →
 *      'gpt-4o-mini'; 'ft:gpt-4o-mini-2024-07-18:org::id' → 'ft:gpt-4o-mini-2024-07-18' → …);
 *   3. for Azure only, the same two steps in the OpenAI table (fallback 'openai-list-price'):
 *      Azure's response model is the OpenAI model name, and list prices are the same or close.
 * Results (misses too) are cached per table, so the hot path is one Map lookup.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROVIDER, type ProviderName } from '../semconv';
import { type Pico, usdPerMillionToPico, usdToPico } from './money';
import { assertPriceFile, type ModelPrice, perImageFromFile, priceFromFile } from './price-schema';

export type { ModelPrice } from './price-schema';

/** A user's price for one model, in the file's units (USD per 1M tokens, USD per image, …). */
export interface PriceOverride {
  input?: number;
  output?: number;
  cached_input?: number;
  cache_write?: number;
  reasoning?: number;
  per_image?: Record<string, number>;
  per_second?: number;
  per_character_million?: number;
  max_output_tokens?: number;
}

export interface PriceLookup {
  price: ModelPrice;
  /** The table key that matched (lower case). */
  matchedModel: string;
  /** True when a dated snapshot (or fine-tune suffix) was folded onto its base model. */
  folded: boolean;
  /** Set when an Azure model was priced from the OpenAI list. */
  fallback?: 'openai-list-price';
}

const PROVIDERS: readonly ProviderName[] = [PROVIDER.OPENAI, PROVIDER.AZURE, PROVIDER.XAI];
const PRICE_FILE = join(__dirname, '..', '..', 'data', 'prices.json');
const CACHE_LIMIT = 4096;

/** A date snapshot at the end of a name: -2024-07-18, -20240718, or -MMDD (-0613, -0709, -1106). */
const SNAPSHOT = /-(?:\d{4}-\d{2}-\d{2}|20\d{6}|(?:0[1-9]|1[0-2])\d{2})$/;

/**
 * One folding step, or undefined when there is nothing to fold:
 * a ':' suffix ('ft:gpt-4o-mini-2024-07-18:org::id' → 'ft:gpt-4o-mini-2024-07-18',
 * 'gpt-3.5-turbo-instruct:20230824-v2' → 'gpt-3.5-turbo-instruct'), else a trailing date snapshot
 * ('gpt-4o-mini-2024-07-18' → 'gpt-4o-mini', 'gpt-4-0613' → 'gpt-4', 'grok-4-0709' → 'grok-4').
 */
export function foldSnapshot(model: string): string | undefined {
  const ft = model.startsWith('ft:') ? 3 : 0;
  const colon = model.indexOf(':', ft);
  if (colon > ft) return model.slice(0, colon);
  const folded = model.replace(SNAPSHOT, '');
  return folded !== model && folded.length > 0 ? folded : undefined;
}

type Tables = ReadonlyMap<ProviderName, ReadonlyMap<string, ModelPrice>>;

let bundledTable: PriceTable | undefined;

export class PriceTable {
  private readonly cache = new Map<string, PriceLookup | null>();

  private constructor(
    readonly version: string,
    private readonly tables: Tables,
  ) {}

  /** The bundled table, read once (data/prices.json, found from this file in src/ and in dist/). */
  static bundled(): PriceTable {
    bundledTable ??= PriceTable.fromFile(JSON.parse(readFileSync(PRICE_FILE, 'utf8')), PRICE_FILE);
    return bundledTable;
  }

  /** A table from a parsed price file (the bundled one, or a test's). */
  static fromFile(file: unknown, where = 'price table'): PriceTable {
    assertPriceFile(file, where);
    const tables = new Map<ProviderName, Map<string, ModelPrice>>();
    for (const provider of PROVIDERS) {
      const models = new Map<string, ModelPrice>();
      for (const [model, entry] of Object.entries(file.providers[provider] ?? {})) {
        models.set(model.toLowerCase(), priceFromFile(provider, model, entry));
      }
      tables.set(provider, models);
    }
    return new PriceTable(file.version, tables);
  }

  /**
   * A new table with the user's prices. Keys are "provider/model" (provider being openai,
   * azure.ai.openai or x_ai) or a bare "model" for every provider. An override replaces the fields
   * it names and keeps the rest (tiers, long-context prices, limits) of the bundled entry; an
   * override for a model not in the table adds it. Overridden entries get source and asOf "config".
   */
  withOverrides(overrides: Record<string, PriceOverride>): PriceTable {
    const tables = new Map([...this.tables].map(([p, m]) => [p, new Map(m)] as const));
    for (const [key, override] of Object.entries(overrides)) {
      checkOverride(key, override);
      const { providers, model } = splitKey(key);
      for (const provider of providers) {
        const models = tables.get(provider)!;
        const id = model.toLowerCase();
        models.set(id, applyOverride(models.get(id) ?? { provider, model, source: 'config', asOf: 'config' }, override));
      }
    }
    return new PriceTable(this.version, tables);
  }

  lookup(provider: ProviderName, model: string | undefined): PriceLookup | undefined {
    if (!model) return undefined;
    const key = `${provider}\u0000${model}`;
    let hit = this.cache.get(key);
    if (hit === undefined) {
      hit = this.resolve(provider, model.toLowerCase()) ?? null;
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(key, hit);
    }
    return hit ?? undefined;
  }

  /**
   * The dearest text model of a provider, by output price then input price: the price to budget
   * an unknown model with. Only chat / responses / completion entries (and user-added ones) count.
   */
  mostExpensive(provider: ProviderName): ModelPrice {
    let best: ModelPrice | undefined;
    for (const p of this.tables.get(provider)!.values()) {
      if (p.mode !== undefined && p.mode !== 'chat' && p.mode !== 'responses' && p.mode !== 'completion') continue;
      if (!best || (p.output ?? 0) > (best.output ?? 0) || ((p.output ?? 0) === (best.output ?? 0) && (p.input ?? 0) > (best.input ?? 0))) {
        best = p;
      }
    }
    if (!best) throw new Error(`no text model priced for provider ${provider}`);
    return best;
  }

  private resolve(provider: ProviderName, model: string): PriceLookup | undefined {
    const own = find(this.tables.get(provider)!, model);
    if (own || provider !== PROVIDER.AZURE) return own;
    const openai = find(this.tables.get(PROVIDER.OPENAI)!, model);
    return openai && { ...openai, fallback: 'openai-list-price' };
  }
}

function find(models: ReadonlyMap<string, ModelPrice>, model: string): PriceLookup | undefined {
  let name: string | undefined = model;
  for (let step = 0; name !== undefined && step < 4; step++) {
    const price = models.get(name);
    if (price) return { price, matchedModel: name, folded: step > 0 };
    name = foldSnapshot(name);
  }
  return undefined;
}

function splitKey(key: string): { providers: readonly ProviderName[]; model: string } {
  for (const provider of PROVIDERS) {
    if (key.startsWith(`${provider}/`)) return { providers: [provider], model: key.slice(provider.length + 1) };
  }
  return { providers: PROVIDERS, model: key };
}

const OVERRIDE_NUMBERS = ['input', 'output', 'cached_input', 'cache_write', 'reasoning', 'per_second', 'per_character_million', 'max_output_tokens'] as const;

function checkOverride(key: string, o: PriceOverride): void {
  const bad = (field: string) => new Error(`price override "${key}": ${field} must be a finite number >= 0`);
  if (!key || !o || typeof o !== 'object') throw new Error(`price override "${key}": expected an object of prices`);
  for (const f of OVERRIDE_NUMBERS) {
    const v = o[f];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) throw bad(f);
  }
  for (const [size, v] of Object.entries(o.per_image ?? {})) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw bad(`per_image["${size}"]`);
  }
}

function applyOverride(base: ModelPrice, o: PriceOverride): ModelPrice {
  const tok = (v: number | undefined, old: Pico | undefined) => (v === undefined ? old : usdPerMillionToPico(v));
  const next: ModelPrice = {
    ...base,
    input: tok(o.input, base.input),
    output: tok(o.output, base.output),
    cachedInput: tok(o.cached_input, base.cachedInput),
    cacheWrite: tok(o.cache_write, base.cacheWrite),
    reasoning: tok(o.reasoning, base.reasoning),
    perImage: o.per_image ? { ...base.perImage, ...perImageFromFile(o.per_image) } : base.perImage,
    perSecond: o.per_second === undefined ? base.perSecond : usdToPico(o.per_second),
    perCharacter: tok(o.per_character_million, base.perCharacter),
    maxOutputTokens: o.max_output_tokens ?? base.maxOutputTokens,
    source: 'config',
    asOf: 'config',
  };
  for (const k of Object.keys(next) as (keyof ModelPrice)[]) if (next[k] === undefined) delete next[k];
  return next;
}
