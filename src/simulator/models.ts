/** What the simulator knows about model names: dated snapshots, tokenizers, reasoning. */
import type { Provider } from './types';

/** Alias -> the dated snapshot the real APIs report in `model`. Unknown models echo as given. */
const SNAPSHOTS: Record<string, string> = {
  'gpt-4o-mini': 'gpt-4o-mini-2024-07-18',
  'gpt-4o': 'gpt-4o-2024-08-06',
  'chatgpt-4o-latest': 'chatgpt-4o-latest',
  'gpt-4.1': 'gpt-4.1-2025-04-14',
  'gpt-4.1-mini': 'gpt-4.1-mini-2025-04-14',
  'gpt-4.1-nano': 'gpt-4.1-nano-2025-04-14',
  'gpt-5': 'gpt-5-2025-08-07',
  'gpt-5-mini': 'gpt-5-mini-2025-08-07',
  'gpt-5-nano': 'gpt-5-nano-2025-08-07',
  o1: 'o1-2024-12-17',
  'o1-mini': 'o1-mini-2024-09-12',
  o3: 'o3-2025-04-16',
  'o3-mini': 'o3-mini-2025-01-31',
  'o4-mini': 'o4-mini-2025-04-16',
  'gpt-4-turbo': 'gpt-4-turbo-2024-04-09',
  'gpt-4': 'gpt-4-0613',
  'gpt-3.5-turbo': 'gpt-3.5-turbo-0125',
  'gpt-3.5-turbo-instruct': 'gpt-3.5-turbo-instruct:20230824-v2',
  'grok-3-latest': 'grok-3',
  'grok-3-mini-latest': 'grok-3-mini',
  'grok-4': 'grok-4-0709',
  'grok-4-latest': 'grok-4-0709',
};

/** The model an Azure deployment runs (see SimulatorOptions.azureDeployments). */
export function azureDeploymentModel(deployment: string, map: Record<string, string> = {}): string {
  if (map[deployment]) return map[deployment];
  if (SNAPSHOTS[deployment] || knownModels('openai').includes(deployment)) return deployment;
  return 'gpt-4o';
}

export function snapshotOf(model: string): string {
  return SNAPSHOTS[model] ?? model;
}

/** Every alias the simulator lists under `GET /models`. */
export function knownModels(provider: Provider): string[] {
  const names = Object.keys(SNAPSHOTS).filter((m) => m.startsWith('grok') === (provider === 'xai'));
  if (provider === 'xai') return names;
  return [
    ...names,
    'text-embedding-3-small',
    'text-embedding-3-large',
    'text-embedding-ada-002',
    'whisper-1',
    'gpt-4o-transcribe',
    'gpt-4o-mini-transcribe',
    'tts-1',
    'gpt-4o-mini-tts',
    'dall-e-2',
    'dall-e-3',
    'gpt-image-1',
    'omni-moderation-latest',
  ];
}

export type EncodingName = 'o200k_base' | 'cl100k_base';

/** o200k_base for gpt-4o / 4.1 / 5 / o-series / grok and anything unknown; cl100k_base for the older families. */
export function encodingForModel(model: string): EncodingName {
  const m = model.toLowerCase();
  if (m.startsWith('text-embedding') || m.startsWith('gpt-3.5') || m.startsWith('text-moderation')) return 'cl100k_base';
  if (/^gpt-4(-|$)/.test(m) && !m.startsWith('gpt-4o')) return 'cl100k_base';
  return 'o200k_base';
}

/** Models that spend hidden reasoning tokens (o-series, gpt-5 except the chat alias, grok reasoning models). */
export function isReasoningModel(model: string): boolean {
  const m = model.toLowerCase();
  if (/^o\d/.test(m)) return true;
  if (m.startsWith('gpt-5')) return !m.includes('chat');
  if (m.startsWith('grok-3-mini') || m.startsWith('grok-4')) return !m.includes('non-reasoning');
  return false;
}

/** Default output dimensions of the embedding models. */
export function embeddingDimensions(model: string): number {
  if (model.includes('3-large')) return 3072;
  return 1536;
}

/** Vision token costs: [base tokens, tokens per 512px tile]. */
export function imageTokenCosts(model: string): [number, number] {
  const m = model.toLowerCase();
  if (m.startsWith('gpt-4o-mini')) return [2833, 5667];
  if (/^o\d/.test(m)) return [75, 150];
  return [85, 170];
}
