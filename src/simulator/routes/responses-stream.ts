/**
 * Responses API stream events, numbered by `sequence_number` from 0: response.created,
 * response.in_progress, then per output item its added / part / delta / done events, then
 * response.completed (or response.incomplete) carrying the full response with usage.
 */
import type { SseFrame } from '../sse';
import { encodingForModel } from '../models';
import { splitIntoTokenPieces } from '../tokens';

/** One item of a response's output (a message, a reasoning summary, a function call). */
export type OutputItem = Record<string, unknown> & { type: string; id: string };

export function responseEvents(response: Record<string, unknown>): SseFrame[] {
  const frames: SseFrame[] = [];
  const emit = (type: string, fields: Record<string, unknown>): void => {
    frames.push({ event: type, data: { type, ...fields, sequence_number: frames.length } });
  };
  const encoding = encodingForModel(String(response.model));
  const pending = { ...response, status: 'in_progress', incomplete_details: null, output: [], usage: null };
  emit('response.created', { response: pending });
  emit('response.in_progress', { response: pending });

  (response.output as OutputItem[]).forEach((item, output_index) => {
    if (item.type === 'message') {
      const part = (item.content as Array<{ text: string }>)[0]!;
      emit('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', content: [] } });
      const at = { item_id: item.id, output_index, content_index: 0 };
      emit('response.content_part.added', { ...at, part: { ...part, text: '' } });
      for (const delta of splitIntoTokenPieces(part.text, encoding)) emit('response.output_text.delta', { ...at, delta });
      emit('response.output_text.done', { ...at, text: part.text });
      emit('response.content_part.done', { ...at, part });
    } else if (item.type === 'function_call') {
      const args = String(item.arguments);
      emit('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', arguments: '' } });
      for (const delta of splitIntoTokenPieces(args, encoding)) {
        emit('response.function_call_arguments.delta', { item_id: item.id, output_index, delta });
      }
      emit('response.function_call_arguments.done', { item_id: item.id, output_index, arguments: args });
    } else {
      emit('response.output_item.added', { output_index, item });
    }
    emit('response.output_item.done', { output_index, item });
  });

  emit(response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response });
  return frames;
}
