/**
 * Local token counts, used only where the provider reports none (the figure is then flagged
 * as estimated). The tokenizer is loaded on first use; `warmTokenizer()` loads it at start-up
 * so that no call pays for it.
 */
type Encoding = { countTokens(text: string): number };
let encoding: Encoding | undefined;

function load(): Encoding {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  encoding ??= require('gpt-tokenizer/encoding/o200k_base') as Encoding;
  return encoding;
}

export function warmTokenizer(): void {
  load();
}

export function countTokens(text: string): number {
  if (!text) return 0;
  try {
    return load().countTokens(text);
  } catch {
    return Math.ceil(text.length / 4);
  }
}

/** Chat framing: each message costs a few tokens beyond its text, plus the reply's priming. */
export const TOKENS_PER_MESSAGE = 3;
export const REPLY_PRIMING_TOKENS = 3;
