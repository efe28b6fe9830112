/** POST embeddings: unit vectors derived from the seed and the input, as float lists or base64 float32. */
import type { RequestContext } from '../context';
import { sendError, sendJson } from '../http';
import { invalidParameter, missingParameter } from '../errors';
import { embeddingDimensions } from '../models';
import { countTokens } from '../tokens';
import { Prng, mixSeed } from '../prng';
import { embeddingsUsage } from '../usage';

type EmbeddingInput = string | number[];

function inputList(input: unknown): EmbeddingInput[] | undefined {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input) || input.length === 0) return undefined;
  if (input.every((v) => typeof v === 'number')) return [input as number[]];
  if (input.every((v) => typeof v === 'string' || (Array.isArray(v) && v.every((t) => typeof t === 'number')))) return input as EmbeddingInput[];
  return undefined;
}

/** A deterministic unit vector for one input, rounded to float32 like the real service. */
export function embeddingVector(seed: number, model: string, input: EmbeddingInput, dimensions: number): number[] {
  const rng = new Prng(mixSeed(seed, model, typeof input === 'string' ? input : input.join(',')));
  const raw = Array.from({ length: dimensions }, () => rng.gaussian());
  const norm = Math.sqrt(raw.reduce((s, v) => s + v * v, 0)) || 1;
  return raw.map((v) => Math.fround(v / norm));
}

/** Little-endian float32 bytes, base64-encoded (`encoding_format: "base64"`). */
export function toBase64Float32(vector: number[]): string {
  const buf = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => {
    buf.writeFloatLE(v, i * 4);
  });
  return buf.toString('base64');
}

export function handleEmbeddings(ctx: RequestContext): void {
  const { body } = ctx;
  const model = ctx.model;
  if (!model) return sendError(ctx, missingParameter('model'));
  const inputs = inputList(body.input);
  if (!inputs) return sendError(ctx, invalidParameter('input', "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."));
  if (body.dimensions !== undefined && model.includes('ada-002')) {
    return sendError(ctx, invalidParameter('dimensions', 'This model does not support specifying dimensions.'));
  }
  const dimensions: number = body.dimensions ?? embeddingDimensions(model);
  const base64 = body.encoding_format === 'base64';
  const data = inputs.map((input, index) => {
    const vector = embeddingVector(ctx.state.seed, model, input, dimensions);
    return { object: 'embedding', index, embedding: base64 ? toBase64Float32(vector) : vector };
  });
  const tokens = inputs.reduce((sum, input) => sum + (typeof input === 'string' ? countTokens(input, 'cl100k_base') : input.length), 0);
  ctx.state.rate.charge(tokens);
  sendJson(ctx, 200, { object: 'list', data, model, ...(ctx.omitUsage ? {} : { usage: embeddingsUsage(tokens) }) });
}
