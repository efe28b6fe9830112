import type { GovernorConfig } from '../config/schema';
import type { Body, Operation } from '../operations';

/**
 * Local token counts: a request's input for budget reservations and TPM limits, and usage where
 * the provider reports none (the figure is then flagged as estimated). The tokenizer is loaded on
 * first use; `warmTokenizer()` loads it at start-up so that no call pays for it.
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

/**
 * The config counts tokens before calls (a budget's worst case, a TPM limit): the tokenizer is
 * then worth loading at start-up. Otherwise it loads only if a provider leaves usage out.
 */
export function countsTokensAhead(config: Pick<GovernorConfig, 'budgets' | 'daily_budget_usd' | 'rate_limit_tpm' | 'rate_limits'>): boolean {
  return config.budgets.length > 0 || config.daily_budget_usd !== undefined || config.rate_limit_tpm !== undefined || config.rate_limits.some((l) => l.tpm !== undefined);
}

/** Counts a text that will not come again (a reply): not remembered. */
export function countTokensOnce(text: string): number {
  if (!text) return 0;
  try {
    return load().countTokens(text);
  } catch {
    return Math.ceil(text.length / 4);
  }
}

/**
 * Counts of texts seen lately. Apps resend the same system prompt, tool definitions and
 * conversation history on every call, and the tokenizer costs about a microsecond per four
 * characters; a lookup costs a hash of the text. Bounded in entries and characters (emptied
 * when full, which keeps every operation O(1)), so memory stays flat whatever the traffic.
 */
const memo = new Map<string, number>();
let memoChars = 0;
const MEMO_MAX_ENTRIES = 2048;
const MEMO_MAX_CHARS = 2_000_000;
const MEMO_MAX_TEXT = 100_000;

export function countTokens(text: string): number {
  if (!text) return 0;
  if (text.length > MEMO_MAX_TEXT) return countTokensOnce(text);
  const known = memo.get(text);
  if (known !== undefined) return known;
  const n = countTokensOnce(text);
  if (memo.size >= MEMO_MAX_ENTRIES || memoChars + text.length > MEMO_MAX_CHARS) {
    memo.clear();
    memoChars = 0;
  }
  memo.set(text, n);
  memoChars += text.length;
  return n;
}

/** The tokens of a request's text pieces (each message, the tool definitions, …), counted apart. */
export function countTokensOf(pieces: readonly string[]): number {
  let n = 0;
  for (const p of pieces) n += countTokens(p);
  return n;
}

/** Chat framing: each message costs a few tokens beyond its text, plus the reply's priming. */
const TOKENS_PER_MESSAGE = 3;
const REPLY_PRIMING_TOKENS = 3;

/** A request's input tokens, counted locally: its text pieces, plus the chat framing. */
export function estimateInputTokens(op: Operation, body: Body): number {
  const messages = Array.isArray(body.messages) ? body.messages.length : 0;
  const framing = messages ? messages * TOKENS_PER_MESSAGE + REPLY_PRIMING_TOKENS : 0;
  return countTokensOf(op.inputText(body)) + framing;
}

/** How full the memo is (for tests). */
export function memoSize(): { entries: number; chars: number } {
  return { entries: memo.size, chars: memoChars };
}
