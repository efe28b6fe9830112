import { OPERATION } from '../semconv';
import type { CallRecord } from './record';
import { addFinishReason, contentText, maxOutputField, samplingAttributes, wireText } from './common';
import type { Operation } from './types';
import { readUsage } from './usage';

function readResponse(r: any, rec: CallRecord): void {
  if (!r || typeof r !== 'object') return;
  if (typeof r.model === 'string') rec.responseModel = wireText(r.model);
  if (typeof r.id === 'string') rec.responseId = r.id;
  if (typeof r.service_tier === 'string') rec.serviceTier = r.service_tier;
  // The Responses API has a status, not finish reasons; map it onto the conventions' notion.
  if (r.status === 'completed') addFinishReason(rec.finishReasons, 'stop');
  else if (r.status === 'incomplete') addFinishReason(rec.finishReasons, r.incomplete_details?.reason === 'max_output_tokens' ? 'length' : String(r.incomplete_details?.reason ?? 'incomplete'));
  else if (typeof r.status === 'string' && r.status !== 'in_progress') addFinishReason(rec.finishReasons, r.status);
  if (Array.isArray(r.output) && r.output.some((o: any) => o?.type === 'function_call')) addFinishReason(rec.finishReasons, 'tool_calls');
  const usage = readUsage(r.usage);
  if (usage) rec.usage = usage;
}

/** `responses.create`, streaming included (usage always arrives in `response.completed`). */
export const responses: Operation = {
  name: OPERATION.CHAT,
  requestAttributes(body, attrs) {
    samplingAttributes(body, attrs, body.max_output_tokens);
    if (body.text?.format?.type === 'json_schema' || body.text?.format?.type === 'json_object') attrs['gen_ai.output.type'] = 'json';
  },
  readResult: readResponse,
  maxOutput: maxOutputField('max_output_tokens'),
  stream: {
    chunk(event, rec) {
      if (!event || typeof event !== 'object') return false;
      switch (event.type) {
        case 'response.output_text.delta':
          if (typeof event.delta === 'string') rec.outputText.push(event.delta);
          break;
        case 'response.function_call_arguments.delta':
          if (typeof event.delta === 'string') rec.outputText.push(event.delta);
          break;
        case 'response.created':
        case 'response.in_progress':
        case 'response.completed':
        case 'response.incomplete':
        case 'response.failed':
          readResponse(event.response, rec);
          break;
      }
      return false;
    },
  },
  inputText(body) {
    const pieces: string[] = [];
    if (typeof body.instructions === 'string') pieces.push(body.instructions);
    if (typeof body.input === 'string') pieces.push(body.input);
    else if (Array.isArray(body.input)) for (const item of body.input) pieces.push(contentText(item?.content ?? item?.output ?? ''));
    if (Array.isArray(body.tools)) pieces.push(JSON.stringify(body.tools));
    return pieces;
  },
  inputMessages(body) {
    const msgs: unknown[] = [];
    if (typeof body.input === 'string') msgs.push({ role: 'user', parts: [{ type: 'text', content: body.input }] });
    else if (Array.isArray(body.input))
      for (const item of body.input) msgs.push({ role: item?.role ?? item?.type, parts: [{ type: 'text', content: contentText(item?.content ?? item?.output ?? '') }] });
    return msgs;
  },
  outputMessages(rec, result) {
    const text = typeof result?.output_text === 'string' ? result.output_text : rec.outputText.join('');
    return [{ role: 'assistant', parts: [{ type: 'text', content: text }], finish_reason: rec.finishReasons[0] }];
  },
};
