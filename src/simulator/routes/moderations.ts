/** POST moderations: deterministic keyword-based flags with the real response shape. */
import type { RequestContext } from '../context';
import { sendError, sendJson } from '../http';
import { missingParameter } from '../errors';
import { Prng, mixSeed } from '../prng';

/** Category -> trigger words (matched as whole words, case-insensitive). */
const TRIGGERS: Record<string, string[]> = {
  harassment: ['idiot', 'loser', 'stupid'],
  'harassment/threatening': ['i will hurt you', 'watch your back'],
  hate: ['vermin', 'subhuman'],
  'hate/threatening': ['exterminate them'],
  illicit: ['meth', 'cocaine', 'counterfeit', 'steal'],
  'illicit/violent': ['make a bomb', 'build a bomb'],
  'self-harm': ['suicide', 'kill myself', 'hurt myself'],
  'self-harm/intent': ['kill myself', 'want to die'],
  'self-harm/instructions': ['how to cut myself'],
  sexual: ['porn', 'explicit sex'],
  'sexual/minors': [],
  violence: ['kill', 'murder', 'bomb', 'shoot', 'stab', 'attack'],
  'violence/graphic': ['gore', 'dismember'],
};
const OMNI_ONLY = new Set(['illicit', 'illicit/violent']);

function triggered(text: string, words: string[]): boolean {
  const lower = text.toLowerCase();
  return words.some((w) => new RegExp(`\\b${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(lower));
}

function moderate(text: string, seed: number, omni: boolean) {
  const rng = new Prng(mixSeed(seed, 'moderation', text));
  const categories: Record<string, boolean> = {};
  const scores: Record<string, number> = {};
  const applied: Record<string, string[]> = {};
  for (const [category, words] of Object.entries(TRIGGERS)) {
    if (!omni && OMNI_ONLY.has(category)) continue;
    const hit = triggered(text, words);
    categories[category] = hit;
    scores[category] = hit ? 0.9 + rng.next() * 0.09 : Number((rng.next() * 0.001).toExponential(6));
    applied[category] = ['text'];
  }
  const result: Record<string, unknown> = { flagged: Object.values(categories).some(Boolean), categories, category_scores: scores };
  if (omni) result.category_applied_input_types = applied;
  return result;
}

function inputTexts(input: unknown): string[] | undefined {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input) || input.length === 0) return undefined;
  if (input.every((item) => typeof item === 'string')) return input as string[];
  // multimodal parts ({type: 'text'} / {type: 'image_url'}) are judged together
  return [input.map((part) => (typeof part?.text === 'string' ? part.text : '')).join(' ')];
}

export function handleModerations(ctx: RequestContext): void {
  const texts = inputTexts(ctx.body.input);
  if (!texts) return sendError(ctx, missingParameter('input'));
  const model: string = ctx.model ?? 'omni-moderation-latest';
  const omni = !model.startsWith('text-moderation');
  sendJson(ctx, 200, {
    id: `modr-${ctx.ids.id(24)}`,
    model: model === 'omni-moderation-latest' ? 'omni-moderation-2024-09-26' : model,
    results: texts.map((t) => moderate(t, ctx.state.seed, omni)),
  });
}
