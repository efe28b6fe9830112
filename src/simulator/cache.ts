/**
 * Automatic prompt caching like the real API: once a prompt of at least 1024 tokens has been seen,
 * a later prompt sharing a prefix of it reports that prefix as `cached_tokens`, in steps of 128.
 */
import { mixSeed } from './prng';

export interface PromptSegment {
  /** Stable text identifying the segment (e.g. the JSON of one message). */
  key: string;
  tokens: number;
}

const MIN_CACHED = 1024;
const STEP = 128;

export class PromptCache {
  private prefixes = new Map<number, number>();

  /** Returns the cached tokens for this prompt, then remembers its prefixes. */
  lookupAndStore(namespace: string, segments: PromptSegment[], promptTokens: number): number {
    let hash = mixSeed(namespace);
    let cumulative = 0;
    let hit = 0;
    const seen: Array<[number, number]> = [];
    for (const segment of segments) {
      hash = mixSeed(hash, segment.key);
      cumulative += segment.tokens;
      if (this.prefixes.has(hash)) hit = Math.max(hit, this.prefixes.get(hash)!);
      seen.push([hash, cumulative]);
    }
    if (promptTokens >= MIN_CACHED) for (const [h, tokens] of seen) this.prefixes.set(h, tokens);
    return cachedAmount(Math.min(hit, promptTokens));
  }

  clear(): void {
    this.prefixes.clear();
  }
}

export function cachedAmount(prefixTokens: number): number {
  if (prefixTokens < MIN_CACHED) return 0;
  return MIN_CACHED + Math.floor((prefixTokens - MIN_CACHED) / STEP) * STEP;
}
