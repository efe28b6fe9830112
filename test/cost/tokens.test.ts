import { describe, expect, it } from 'vitest';
import { countTokens, countTokensOf, memoSize } from '../../src/cost/tokens';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const tokenizer = require('gpt-tokenizer/encoding/o200k_base') as { countTokens(t: string): number };

describe('local token counts (memoized per text)', () => {
  it.each([
    ['empty', '', 0],
    ['a word', 'hello', 1],
    ['a sentence', 'The quick brown fox jumps over the lazy dog.', 10],
    ['non-ASCII', 'Grüße aus München — 東京', tokenizer.countTokens('Grüße aus München — 東京')],
  ])("%s: the tokenizer's count, first and second time", (_name, text, expected) => {
    expect(countTokens(text)).toBe(expected);
    expect(countTokens(text)).toBe(expected);
  });

  it('pieces are counted apart and summed', () => {
    expect(countTokensOf(['system prompt here', 'and a question?'])).toBe(tokenizer.countTokens('system prompt here') + tokenizer.countTokens('and a question?'));
  });

  it('stays bounded and right under a stream of distinct texts', () => {
    for (let i = 0; i < 10_000; i++) {
      const text = `Question number ${i}: where is my parcel ${i * 7}?`;
      expect(countTokens(text)).toBe(tokenizer.countTokens(text));
      expect(memoSize().entries).toBeLessThanOrEqual(2048);
    }
    expect(memoSize().chars).toBeLessThanOrEqual(2_000_000);
  });
});
