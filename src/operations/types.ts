import type { Attributes } from '@opentelemetry/api';
import type { OperationName } from '../semconv';
import type { CallRecord } from './record';

export type Body = Record<string, any>;

/** Per-stream accumulator: sees each chunk once, says whether to hide it from the app. */
export interface StreamObserver {
  /** Returns true when the chunk must not reach the app (our injected usage-only chunk). */
  chunk(chunk: any, rec: CallRecord): boolean;
}

/**
 * What differs between operations. The call lifecycle (`call.ts`) is the same for all of them;
 * an operation only says how to read its request, its result and its stream chunks.
 */
export interface Operation {
  name: OperationName;
  /** Request attributes known before sending (model is set by the lifecycle). */
  requestAttributes(body: Body, attrs: Attributes): void;
  /** A copy of the body that asks a stream for usage, or undefined when nothing is needed. */
  withStreamUsage?(body: Body): Body | undefined;
  /** Reads a parsed (non-stream) result into the record. */
  readResult(result: any, rec: CallRecord): void;
  /** Reads a streamed chunk into the record. */
  stream?: StreamObserver;
  /**
   * The request's text, in pieces (each message, the tool definitions, …), to estimate input
   * tokens from: for budget reservations, TPM limits, and usage when the provider reports none.
   * Pieces are counted apart, so a piece sent again (a system prompt, the history) costs a lookup.
   */
  inputText(body: Body): string[];
  /** The conventions' structured input messages, for opt-in content capture. */
  inputMessages?(body: Body): unknown[];
  /** Output messages, for opt-in content capture. */
  outputMessages?(rec: CallRecord, result: any): unknown[];
  /** The request's output-token limit: read it, or write another into a copy (cap_tokens). */
  maxOutput?: MaxOutputParam;
}

export interface MaxOutputParam {
  read(body: Body): number | undefined;
  write(body: Body, tokens: number): Body;
}
