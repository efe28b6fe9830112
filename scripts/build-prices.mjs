#!/usr/bin/env node
// Builds data/prices.json (our own, human-readable price table) from the LiteLLM price file
// copied into scripts/prices-source (MIT; see its README). Plain Node, no dependencies, deterministic:
// rebuilding from the same reference gives a byte-identical file.
//
//   node scripts/build-prices.mjs [reference.json] [out.json]
//
// Units in the output: token prices in USD per 1M tokens; per_image in USD per image;
// per_second in USD per second of audio; per_character_million in USD per 1M characters.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REFERENCE_NAME = 'model-prices-openai-azure-xai.json';
const AS_OF = '2026-07-24';
const VERSION = `${AS_OF}.1`;
const DEFAULT_SOURCE = 'LiteLLM model_prices_and_context_window.json';

const PROVIDERS = {
  openai: 'openai',
  'text-completion-openai': 'openai',
  azure: 'azure.ai.openai',
  azure_text: 'azure.ai.openai',
  xai: 'x_ai',
};
const PREFIXES = { 'azure.ai.openai': 'azure/', x_ai: 'xai/' };

/** Per-token USD to USD per 1M tokens, rounded to 10 significant digits (no float noise). */
const perMillion = (v) => clean(v * 1e6);
const clean = (v) => Number(v.toPrecision(10));
const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Copies the defined per-token figures of `src` named by `fields` (ours ← theirs) into an object. */
function pick(raw, fields) {
  const out = {};
  for (const [ours, theirs] of fields) {
    const v = num(raw[theirs]);
    if (v !== undefined) out[ours] = perMillion(v);
  }
  return Object.keys(out).length ? out : undefined;
}

const TIER_FIELDS = (suffix) => [
  ['input', `input_cost_per_token${suffix}`],
  ['output', `output_cost_per_token${suffix}`],
  ['cached_input', `cache_read_input_token_cost${suffix}`],
  ['cache_write', `cache_creation_input_token_cost${suffix}`],
];

function tiers(raw) {
  const out = {};
  const batch = pick(raw, TIER_FIELDS('_batches'));
  const priority = pick(raw, TIER_FIELDS('_priority'));
  const flex = pick(raw, TIER_FIELDS('_flex'));
  if (batch) out.batch = batch;
  if (priority) out.priority = priority;
  if (flex) out.flex = flex;
  return Object.keys(out).length ? out : undefined;
}

function longContext(raw) {
  const thresholds = new Set();
  for (const key of Object.keys(raw)) {
    const m = /_above_(\d+)k_tokens/.exec(key);
    if (m) thresholds.add(Number(m[1]));
  }
  const out = [];
  for (const k of [...thresholds].sort((a, b) => a - b)) {
    const entry = { above_tokens: k * 1000, ...pick(raw, TIER_FIELDS(`_above_${k}k_tokens`)) };
    for (const tier of ['priority', 'flex', 'batches']) {
      const t = pick(raw, TIER_FIELDS(`_above_${k}k_tokens_${tier}`));
      if (t) entry[tier === 'batches' ? 'batch' : tier] = t;
    }
    out.push(entry);
  }
  return out.length ? out : undefined;
}

/** One reference entry (not a size/quality image key) to our entry, or undefined when unpriced. */
function toEntry(raw) {
  const imageGen = raw.mode === 'image_generation';
  const e =
    pick(raw, [
      ['input', 'input_cost_per_token'],
      ['output', 'output_cost_per_token'],
      ['cached_input', 'cache_read_input_token_cost'],
      ['cache_write', 'cache_creation_input_token_cost'],
      ['reasoning', 'output_cost_per_reasoning_token'],
      ['audio_input', 'input_cost_per_audio_token'],
      ['audio_output', 'output_cost_per_audio_token'],
      ['image_input', 'input_cost_per_image_token'],
      ['image_output', 'output_cost_per_image_token'],
    ]) ?? {};
  const perImage = num(raw.input_cost_per_image);
  if (perImage !== undefined && perImage > 0) {
    // Image-generation models: a price per image (the "*" default). Elsewhere (realtime, grok
    // vision) LiteLLM's input_cost_per_image is the price of an image input TOKEN.
    if (imageGen) e.per_image = { '*': clean(perImage) };
    else if (e.image_input === undefined) e.image_input = perMillion(perImage);
  }
  const t = tiers(raw);
  if (t) e.tiers = t;
  const lc = longContext(raw);
  if (lc) e.long_context = lc;
  const perSecond = num(raw.input_cost_per_second);
  if (perSecond !== undefined && perSecond > 0) e.per_second = clean(perSecond);
  const perChar = num(raw.input_cost_per_character);
  if (perChar !== undefined && perChar > 0) e.per_character_million = perMillion(perChar);
  if (Object.keys(e).length === 0) return undefined;
  return e;
}

const IMAGE_KEY = /^(?:(standard|hd|low|medium|high)\/)?(\d+)-x-(\d+)\/(.+)$/;

/** A size/quality image key's price per image: as given, or per-pixel × pixels to the nearest $0.001. */
function imagePrice(raw, width, height) {
  const perImage = num(raw.input_cost_per_image);
  if (perImage !== undefined) return clean(perImage);
  const perPixel = num(raw.input_cost_per_pixel);
  if (perPixel !== undefined) return Math.round(perPixel * width * height * 1000) / 1000;
  return undefined;
}

function finish(entry, raw) {
  return {
    ...entry,
    ...(num(raw.max_input_tokens) !== undefined ? { max_input_tokens: raw.max_input_tokens } : {}),
    ...(num(raw.max_output_tokens) !== undefined ? { max_output_tokens: raw.max_output_tokens } : {}),
    mode: raw.mode,
    source: typeof raw.source === 'string' ? raw.source : DEFAULT_SOURCE,
    as_of: AS_OF,
  };
}

/** Field order of an entry in the file (the rest, if any, alphabetically after). */
const ORDER = [
  'version',
  'generated_from',
  'units',
  'providers',
  'above_tokens',
  'input',
  'output',
  'cached_input',
  'cache_write',
  'reasoning',
  'audio_input',
  'audio_output',
  'image_input',
  'image_output',
  'tiers',
  'long_context',
  'per_image',
  'per_second',
  'per_character_million',
  'max_input_tokens',
  'max_output_tokens',
  'mode',
  'source',
  'as_of',
  'batch',
  'priority',
  'flex',
];

/** Deep copy with keys in canonical order: known fields in ORDER, other keys (model names, sizes) sorted. */
function canonical(v) {
  if (Array.isArray(v)) return v.map(canonical);
  if (!v || typeof v !== 'object') return v;
  const rank = (k) => (ORDER.includes(k) ? ORDER.indexOf(k) : ORDER.length);
  const keys = Object.keys(v).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(keys.map((k) => [k, canonical(v[k])]));
}

export function buildPrices(reference, referenceName = REFERENCE_NAME) {
  const providers = { openai: {}, 'azure.ai.openai': {}, x_ai: {} };
  const images = []; // size/quality keys, merged once every plain entry is in
  for (const key of Object.keys(reference).sort()) {
    const raw = reference[key];
    const provider = PROVIDERS[raw.litellm_provider];
    if (!provider) continue;
    const prefix = PREFIXES[provider];
    const model = prefix && key.startsWith(prefix) ? key.slice(prefix.length) : key;
    const img = IMAGE_KEY.exec(model);
    if (img) {
      images.push({ provider, raw, quality: img[1], width: Number(img[2]), height: Number(img[3]), model: img[4] });
      continue;
    }
    const entry = raw.mode === 'moderation' ? { input: 0, output: 0 } : toEntry(raw);
    if (entry) providers[provider][model] = finish(entry, raw);
  }
  for (const { provider, raw, quality, width, height, model } of images) {
    const price = imagePrice(raw, width, height);
    if (price === undefined || price <= 0) continue; // a $0 image is no price (Azure dall-e-2)
    const table = providers[provider];
    table[model] ??= finish({}, { mode: 'image_generation', source: raw.source });
    const entry = table[model];
    entry.per_image = { ...entry.per_image, [`${quality ? `${quality}/` : ''}${width}x${height}`]: price };
  }
  return canonical({
    version: VERSION,
    generated_from: `${referenceName} (LiteLLM model_prices_and_context_window.json, MIT; mirrored ${AS_OF})`,
    units:
      'input, output, cached_input, cache_write, reasoning, audio_input, audio_output, image_input, image_output ' +
      '(and the same names under tiers and long_context): USD per 1M tokens. per_image: USD per image, keyed ' +
      '"quality/WIDTHxHEIGHT", "WIDTHxHEIGHT" or "*" (default). per_second: USD per second of audio. ' +
      'per_character_million: USD per 1M characters of speech input. long_context prices apply to the whole call ' +
      'when its input tokens are above above_tokens.',
    providers,
  });
}

export function serialize(table) {
  return `${JSON.stringify(table, null, 2)}\n`;
}

function main() {
  const refPath = process.argv[2] ? resolve(process.argv[2]) : resolve(REPO, 'scripts/prices-source', REFERENCE_NAME);
  const outPath = process.argv[3] ? resolve(process.argv[3]) : resolve(REPO, 'data/prices.json');
  const table = buildPrices(JSON.parse(readFileSync(refPath, 'utf8')), basename(refPath));
  writeFileSync(outPath, serialize(table));
  const counts = Object.entries(table.providers).map(([p, models]) => `${p} ${Object.keys(models).length}`);
  process.stdout.write(`wrote ${outPath} (${table.version}): ${counts.join(', ')}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
