/** Tokenizer access (gpt-tokenizer): counting, truncating and splitting text into stream deltas. */
import * as o200k from 'gpt-tokenizer/encoding/o200k_base';
import * as cl100k from 'gpt-tokenizer/encoding/cl100k_base';
import type { EncodingName } from './models';

interface Codec {
  encode(text: string): number[];
  decode(tokens: Iterable<number>): string;
}

const CODECS: Record<EncodingName, Codec> = {
  o200k_base: { encode: (t) => o200k.encode(t), decode: (t) => o200k.decode(t) },
  cl100k_base: { encode: (t) => cl100k.encode(t), decode: (t) => cl100k.decode(t) },
};

function encode(text: string, encoding: EncodingName): number[] {
  return text ? CODECS[encoding].encode(text) : [];
}

export function countTokens(text: string, encoding: EncodingName): number {
  return encode(text, encoding).length;
}

/** The longest prefix of `text` that has at most `maxTokens` tokens. */
export function truncateToTokens(text: string, maxTokens: number, encoding: EncodingName): string {
  const tokens = encode(text, encoding);
  if (tokens.length <= maxTokens) return text;
  return pieces(tokens.slice(0, Math.max(0, maxTokens)), encoding).join('');
}

/** Splits text into one piece per token (merging tokens that only decode together), like real stream deltas. */
export function splitIntoTokenPieces(text: string, encoding: EncodingName): string[] {
  return pieces(encode(text, encoding), encoding);
}

function pieces(tokens: number[], encoding: EncodingName): string[] {
  const codec = CODECS[encoding];
  const out: string[] = [];
  let pending: number[] = [];
  for (const token of tokens) {
    pending.push(token);
    const piece = codec.decode(pending);
    if (!piece.includes('\uFFFD')) {
      out.push(piece);
      pending = [];
    }
  }
  if (pending.length > 0) out.push(codec.decode(pending).replace(/\uFFFD/g, ''));
  return out.filter((p) => p.length > 0);
}
