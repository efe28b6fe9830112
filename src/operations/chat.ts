import { OPERATION } from '../semconv';
import type { CallRecord } from './record';
import { wireText } from './common';
import { addFinishReason, chatMaxOutput, contentText, maxOutputField, samplingAttributes, withIncludeUsage } from './common';
import type { Body, Operation } from './types';
import { readUsage } from './usage';

function readCommon(obj: any, rec: CallRecord): void {
  // Azure's first stream chunk (prompt filter results) has an empty model and id: skip those.
  if (typeof obj.model === 'string' && obj.model) rec.responseModel = wireText(obj.model);
  if (typeof obj.id === 'string' && obj.id) rec.responseId = obj.id;
  if (typeof obj.service_tier === 'string') rec.serviceTier = obj.service_tier;
  if (typeof obj.system_fingerprint === 'string') rec.systemFingerprint = obj.system_fingerprint;
}

/**
 * Reads usage from a chunk, and says whether the app must not see it. With `include_usage` the
 * API adds `"usage": null` to every chunk and sends the usage in a last chunk with no choices.
 * When we asked for usage and the app did not, we hide exactly what our asking added: those
 * nulls, and the usage-only chunk that follows them. A provider that sends usage on its own (no
 * nulls before it, or usage already on an earlier chunk: unasked, on the last content chunk,
 * twice) is not answering our ask, and the app sees its chunks as sent.
 */
function streamUsage(chunk: any, rec: CallRecord): boolean {
  const usage = chunk.usage;
  if (usage) {
    const read = readUsage(usage);
    if (read) rec.usage = read;
    if (rec.responseModel === undefined) readCommon(chunk, rec);
  }
  if (!rec.usageInjected) return false;
  if (usage === null) {
    rec.usageNulls = true;
    delete chunk.usage;
    return false;
  }
  if (!usage) return false;
  const answersOurAsk = !!rec.usageNulls && !rec.usageSeen && (!Array.isArray(chunk.choices) || chunk.choices.length === 0);
  rec.usageSeen = true;
  return answersOurAsk;
}

function messages(body: Body): unknown[] {
  return Array.isArray(body.messages) ? body.messages : [];
}

/** `chat.completions.create` (and the helpers built on it: parse, stream, runTools). */
export const chatCompletions: Operation = {
  name: OPERATION.CHAT,
  requestAttributes(body, attrs) {
    samplingAttributes(body, attrs, body.max_completion_tokens ?? body.max_tokens);
    const type = body.response_format?.type;
    if (type === 'json_object' || type === 'json_schema') attrs['gen_ai.output.type'] = 'json';
    else if (type === 'text') attrs['gen_ai.output.type'] = 'text';
  },
  withStreamUsage: withIncludeUsage,
  maxOutput: chatMaxOutput,
  readResult(result, rec) {
    if (!result || typeof result !== 'object') return;
    readCommon(result, rec);
    if (Array.isArray(result.choices)) for (const c of result.choices) addFinishReason(rec.finishReasons, c?.finish_reason);
    const usage = readUsage(result.usage);
    if (usage) rec.usage = usage;
  },
  stream: {
    chunk(chunk, rec) {
      if (!chunk || typeof chunk !== 'object') return false;
      if (rec.responseModel === undefined) readCommon(chunk, rec);
      const choices = chunk.choices;
      if (Array.isArray(choices)) {
        for (let i = 0; i < choices.length; i++) {
          const c = choices[i];
          const d = c?.delta;
          if (d) {
            if (typeof d.content === 'string') rec.outputText.push(d.content);
            if (Array.isArray(d.tool_calls)) for (const t of d.tool_calls) if (t?.function?.arguments) rec.outputText.push(t.function.arguments);
          }
          if (c?.finish_reason) addFinishReason(rec.finishReasons, c.finish_reason);
        }
      }
      return streamUsage(chunk, rec);
    },
  },
  inputText(body) {
    const pieces: string[] = [];
    for (const m of messages(body) as any[]) pieces.push(m?.role ?? '', contentText(m?.content));
    if (Array.isArray(body.tools)) pieces.push(JSON.stringify(body.tools));
    return pieces;
  },
  inputMessages(body) {
    return (messages(body) as any[]).map((m) => ({
      role: m?.role,
      parts: [{ type: 'text', content: contentText(m?.content) }],
      ...(Array.isArray(m?.tool_calls) ? { tool_calls: m.tool_calls } : {}),
    }));
  },
  outputMessages(rec, result) {
    if (result && Array.isArray(result.choices)) {
      return result.choices.map((c: any) => ({
        role: c?.message?.role ?? 'assistant',
        parts: [{ type: 'text', content: contentText(c?.message?.content) }],
        finish_reason: c?.finish_reason,
        ...(Array.isArray(c?.message?.tool_calls) ? { tool_calls: c.message.tool_calls } : {}),
      }));
    }
    return [{ role: 'assistant', parts: [{ type: 'text', content: rec.outputText.join('') }], finish_reason: rec.finishReasons[0] }];
  },
};

/** Legacy `completions.create`. */
export const textCompletions: Operation = {
  name: OPERATION.TEXT_COMPLETION,
  requestAttributes(body, attrs) {
    samplingAttributes(body, attrs, body.max_tokens);
  },
  withStreamUsage: withIncludeUsage,
  maxOutput: maxOutputField('max_tokens'),
  readResult(result, rec) {
    chatCompletions.readResult(result, rec);
  },
  stream: {
    chunk(chunk, rec) {
      if (!chunk || typeof chunk !== 'object') return false;
      if (rec.responseModel === undefined) readCommon(chunk, rec);
      if (Array.isArray(chunk.choices)) {
        for (const c of chunk.choices) {
          if (typeof c?.text === 'string') rec.outputText.push(c.text);
          if (c?.finish_reason) addFinishReason(rec.finishReasons, c.finish_reason);
        }
      }
      return streamUsage(chunk, rec);
    },
  },
  inputText(body) {
    const p = body.prompt;
    if (typeof p === 'string') return [p];
    if (Array.isArray(p)) return p.filter((x) => typeof x === 'string');
    return [];
  },
  inputMessages(body) {
    return [{ role: 'user', parts: [{ type: 'text', content: textCompletions.inputText(body).join('\n') }] }];
  },
  outputMessages(rec, result) {
    const text = result && Array.isArray(result.choices) ? result.choices.map((c: any) => c?.text ?? '').join('') : rec.outputText.join('');
    return [{ role: 'assistant', parts: [{ type: 'text', content: text }] }];
  },
};
