import { chatCompletions, textCompletions } from './chat';
import { audioTranscription, audioTranslation, embeddings, imageEdit, imageGeneration, moderation, speech } from './media';
import { responses } from './responses';
import type { Operation } from './types';

export type { Operation, Body } from './types';

/**
 * Billable operations by the request path the SDK's resources pass to `client.post()`.
 * Azure rewrites the path to `/deployments/{name}/...` later, inside the SDK, so these match it too.
 * Paths not listed (files, batches, uploads, ...) pass through untouched.
 */
const BY_PATH: ReadonlyMap<string, Operation> = new Map([
  ['/chat/completions', chatCompletions],
  ['/responses', responses],
  ['/embeddings', embeddings],
  ['/completions', textCompletions],
  ['/images/generations', imageGeneration],
  ['/images/edits', imageEdit],
  ['/audio/transcriptions', audioTranscription],
  ['/audio/translations', audioTranslation],
  ['/audio/speech', speech],
  ['/moderations', moderation],
]);

/** Every billable path, longest first (so that `/chat/completions` is found before `/completions`). */
export const billablePaths: readonly string[] = [...BY_PATH.keys()].sort((a, b) => b.length - a.length);

export function operationForPath(path: unknown): Operation | undefined {
  return typeof path === 'string' ? BY_PATH.get(path) : undefined;
}
