import type { Attributes } from '@opentelemetry/api';
import { ATTR } from '../semconv';
import type { Body } from './types';

/** Sampling parameters shared by chat, responses and legacy completions. */
export function samplingAttributes(body: Body, attrs: Attributes, maxTokens: unknown): void {
  if (typeof maxTokens === 'number') attrs[ATTR.REQUEST_MAX_TOKENS] = maxTokens;
  if (typeof body.temperature === 'number') attrs[ATTR.REQUEST_TEMPERATURE] = body.temperature;
  if (typeof body.top_p === 'number') attrs[ATTR.REQUEST_TOP_P] = body.top_p;
  if (typeof body.frequency_penalty === 'number') attrs[ATTR.REQUEST_FREQUENCY_PENALTY] = body.frequency_penalty;
  if (typeof body.presence_penalty === 'number') attrs[ATTR.REQUEST_PRESENCE_PENALTY] = body.presence_penalty;
  if (typeof body.seed === 'number') attrs[ATTR.REQUEST_SEED] = body.seed;
  if (typeof body.n === 'number' && body.n !== 1) attrs[ATTR.REQUEST_CHOICE_COUNT] = body.n;
  if (typeof body.stop === 'string') attrs[ATTR.REQUEST_STOP_SEQUENCES] = [body.stop];
  else if (Array.isArray(body.stop)) attrs[ATTR.REQUEST_STOP_SEQUENCES] = body.stop.filter((s) => typeof s === 'string');
  if (typeof body.service_tier === 'string') attrs[ATTR.OPENAI_REQUEST_SERVICE_TIER] = body.service_tier;
}

/** A copy of the body with `stream_options.include_usage`, when a stream did not ask for it. */
export function withIncludeUsage(body: Body): Body | undefined {
  if (body.stream !== true || body.stream_options?.include_usage === true) return undefined;
  // The app said `include_usage: false` on purpose: still ask (we hide the chunk) — the figure is ours.
  return { ...body, stream_options: { ...(body.stream_options ?? {}), include_usage: true } };
}

/** Text of message content in any of its shapes: string, parts array, or nested input items. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    let s = '';
    for (const part of content) {
      if (typeof part === 'string') s += part;
      else if (part && typeof part === 'object') {
        const p = part as Record<string, unknown>;
        if (typeof p.text === 'string') s += p.text;
        else if (p.content !== undefined) s += contentText(p.content);
      }
    }
    return s;
  }
  return '';
}

/** Adds a finish reason once per distinct value, in order. */
export function addFinishReason(list: string[], reason: unknown): void {
  if (typeof reason === 'string' && reason && !list.includes(reason)) list.push(reason);
}

/** An output limit held in one request field (`max_output_tokens`, legacy `max_tokens`). */
export function maxOutputField(field: string): import('./types').MaxOutputParam {
  return {
    read: (body) => (typeof body[field] === 'number' ? body[field] : undefined),
    write: (body, tokens) => ({ ...body, [field]: tokens }),
  };
}

/**
 * Chat's output limit: `max_completion_tokens` (reasoning models accept only this one) or the
 * older `max_tokens`. A new limit goes where the app put its own, else where the model expects it.
 */
export const chatMaxOutput: import('./types').MaxOutputParam = {
  read: (body) => (typeof body.max_completion_tokens === 'number' ? body.max_completion_tokens : typeof body.max_tokens === 'number' ? body.max_tokens : undefined),
  write: (body, tokens) => {
    const reasoning = typeof body.model === 'string' && /^(o\d|gpt-5)/.test(body.model);
    const field = 'max_completion_tokens' in body || (reasoning && !('max_tokens' in body)) ? 'max_completion_tokens' : 'max_tokens';
    return { ...body, [field]: tokens };
  },
};

/** A value from the wire kept on the record (and the span): cut to a sane length. */
export function wireText(value: string, max = 256): string {
  return value.length > max ? cutCopy(value, max) : value;
}

/**
 * The first `max` characters as a string of their own. (A plain `slice` of a long string is a
 * view that keeps the whole original alive: 10 KB per cut, for as long as the cut is kept.)
 */
function cutCopy(value: string, max: number): string {
  return Buffer.from(value.slice(0, max), 'utf8').toString('utf8');
}
