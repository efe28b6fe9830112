/** The route table: (method, operation) -> handler. */
import type { RequestContext } from '../context';
import { handleChat } from './chat';
import { handleCompletions } from './completions';
import { handleResponses } from './responses';
import { handleEmbeddings } from './embeddings';
import { handleImageEdit, handleImageGeneration } from './images';
import { handleTranscription, handleTranslation } from './audio';
import { handleSpeech } from './speech';
import { handleModerations } from './moderations';
import { handleGetModel, handleListModels } from './models';

export type Handler = (ctx: RequestContext) => void | Promise<void>;

const ROUTES: Array<{ method: string; op: string | RegExp; handler: Handler }> = [
  { method: 'POST', op: 'chat/completions', handler: handleChat },
  { method: 'POST', op: 'completions', handler: handleCompletions },
  { method: 'POST', op: 'responses', handler: handleResponses },
  { method: 'POST', op: 'embeddings', handler: handleEmbeddings },
  { method: 'POST', op: 'images/generations', handler: handleImageGeneration },
  { method: 'POST', op: 'images/edits', handler: handleImageEdit },
  { method: 'POST', op: 'audio/transcriptions', handler: handleTranscription },
  { method: 'POST', op: 'audio/translations', handler: handleTranslation },
  { method: 'POST', op: 'audio/speech', handler: handleSpeech },
  { method: 'POST', op: 'moderations', handler: handleModerations },
  { method: 'GET', op: 'models', handler: handleListModels },
  { method: 'GET', op: /^models\/[^/]+$/, handler: handleGetModel },
];

export function findHandler(method: string, op: string): Handler | undefined {
  const route = ROUTES.find((r) => r.method === method && (typeof r.op === 'string' ? r.op === op : r.op.test(op)));
  return route?.handler;
}
