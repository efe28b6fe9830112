/** Deterministic filler text built from a small word list. */
import type { Prng } from './prng';
import type { EncodingName } from './models';
import { countTokens } from './tokens';

const WORDS = [
  'the',
  'a',
  'system',
  'model',
  'request',
  'answer',
  'simple',
  'quick',
  'clear',
  'useful',
  'data',
  'result',
  'value',
  'ocean',
  'island',
  'river',
  'mountain',
  'city',
  'weather',
  'light',
  'signal',
  'network',
  'budget',
  'cost',
  'token',
  'stream',
  'response',
  'question',
  'idea',
  'plan',
  'step',
  'reason',
  'example',
  'detail',
  'small',
  'large',
  'green',
  'blue',
  'bright',
  'calm',
  'steady',
  'careful',
  'open',
  'shared',
  'local',
  'global',
  'is',
  'are',
  'was',
  'can',
  'will',
  'should',
  'might',
  'helps',
  'shows',
  'keeps',
  'makes',
  'finds',
  'brings',
  'and',
  'or',
  'but',
  'with',
  'for',
  'from',
  'into',
  'over',
  'under',
  'near',
  'about',
  'through',
  'across',
  'today',
  'often',
  'usually',
  'rarely',
  'again',
  'together',
  'quickly',
  'gently',
  'clearly',
  'mostly',
  'team',
  'engineer',
  'service',
  'client',
  'server',
  'record',
  'trace',
  'metric',
  'limit',
  'window',
  'path',
  'forest',
  'garden',
  'harbor',
  'bridge',
  'valley',
  'tomato',
  'coffee',
  'music',
  'story',
  'journey',
  'morning',
];

export const CITIES = ['Paris', 'London', 'New York City', 'Tokyo', 'Bogotá', 'Nairobi', 'Sydney', 'Oslo', 'Lima', 'Seoul'];

function sentence(rng: Prng): string {
  const length = rng.int(5, 12);
  const words: string[] = [];
  for (let i = 0; i < length; i++) words.push(rng.pick(WORDS));
  const first = words[0]!;
  words[0] = first.charAt(0).toUpperCase() + first.slice(1);
  return `${words.join(' ')}${rng.next() < 0.15 ? '!' : '.'}`;
}

/** Whole sentences until the text has at least `targetTokens` tokens. */
export function generateSentences(rng: Prng, targetTokens: number, encoding: EncodingName, prefix = ''): string {
  let text = prefix;
  while (countTokens(text, encoding) < targetTokens) text = text ? `${text} ${sentence(rng)}` : sentence(rng);
  return text;
}

/** A few words (no trailing punctuation), for short string values. */
export function phrase(rng: Prng, min = 2, max = 5): string {
  const count = rng.int(min, max);
  const words: string[] = [];
  for (let i = 0; i < count; i++) words.push(rng.pick(WORDS));
  return words.join(' ');
}

/** Words for a transcript of roughly `seconds` of speech (about 2.5 words a second). */
export function spokenText(rng: Prng, seconds: number): string {
  const words = Math.max(3, Math.round(seconds * 2.5));
  const out: string[] = [];
  let sentenceStart = true;
  for (let i = 0; i < words; i++) {
    let word = rng.pick(WORDS);
    if (sentenceStart) word = word.charAt(0).toUpperCase() + word.slice(1);
    sentenceStart = i === words - 1 || rng.next() < 0.12;
    out.push(sentenceStart ? `${word}.` : word);
  }
  return out.join(' ');
}
