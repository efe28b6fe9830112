import { ATTR, OPERATION } from '../semconv';
import type { CallRecord } from './record';
import { wireText } from './common';
import type { Body, Operation } from './types';
import { readUsage } from './usage';

const fieldOf = (body: Body, key: string): unknown => body?.[key];

function readModelAndUsage(result: any, rec: CallRecord): void {
  if (!result || typeof result !== 'object') return;
  if (typeof result.model === 'string') rec.responseModel = wireText(result.model);
  if (typeof result.id === 'string') rec.responseId = result.id;
  const usage = readUsage(result.usage);
  if (usage) rec.usage = { ...rec.usage, ...usage };
}

export const embeddings: Operation = {
  name: OPERATION.EMBEDDINGS,
  requestAttributes(body, attrs) {
    if (typeof body.encoding_format === 'string') attrs[ATTR.REQUEST_ENCODING_FORMATS] = [body.encoding_format];
  },
  readResult: readModelAndUsage,
  inputText(body) {
    const input = body.input;
    if (typeof input === 'string') return [input];
    if (Array.isArray(input)) return input.filter((x) => typeof x === 'string');
    return [];
  },
};

function imageOperation(name: typeof OPERATION.IMAGE_GENERATION | typeof OPERATION.IMAGE_EDIT): Operation {
  return {
    name,
    requestAttributes(body, attrs) {
      if (typeof body.n === 'number') attrs[ATTR.REQUEST_CHOICE_COUNT] = body.n;
      attrs[ATTR.OUTPUT_TYPE] = 'image';
    },
    readResult(result, rec) {
      readModelAndUsage(result, rec);
      if (Array.isArray(result?.data)) rec.usage = { ...rec.usage, images: result.data.length };
    },
    inputText: (body) => [String(fieldOf(body, 'prompt') ?? '')],
  };
}

export const imageGeneration = imageOperation(OPERATION.IMAGE_GENERATION);
export const imageEdit = imageOperation(OPERATION.IMAGE_EDIT);

function audioTextOperation(name: typeof OPERATION.AUDIO_TRANSCRIPTION | typeof OPERATION.AUDIO_TRANSLATION): Operation {
  return {
    name,
    requestAttributes() {},
    readResult(result, rec) {
      readModelAndUsage(result, rec);
      if (typeof result?.duration === 'number' && rec.usage.audioSeconds === undefined) rec.usage = { ...rec.usage, audioSeconds: result.duration };
      if (typeof result?.text === 'string') rec.outputText.push(result.text);
      else if (typeof result === 'string') rec.outputText.push(result);
    },
    inputText: (body) => [String(fieldOf(body, 'prompt') ?? '')],
  };
}

export const audioTranscription = audioTextOperation(OPERATION.AUDIO_TRANSCRIPTION);
export const audioTranslation = audioTextOperation(OPERATION.AUDIO_TRANSLATION);

/** `audio.speech.create`: billed on input characters/tokens; the result is binary audio. */
export const speech: Operation = {
  name: OPERATION.SPEECH,
  requestAttributes(_body, attrs) {
    attrs[ATTR.OUTPUT_TYPE] = 'speech';
  },
  readResult() {},
  inputText: (body) => [String(fieldOf(body, 'input') ?? '')],
};

export const moderation: Operation = {
  name: OPERATION.MODERATION,
  requestAttributes() {},
  readResult: readModelAndUsage,
  inputText(body) {
    const input = body.input;
    if (typeof input === 'string') return [input];
    if (Array.isArray(input)) return input.map((x) => (typeof x === 'string' ? x : typeof x?.text === 'string' ? x.text : ''));
    return [];
  },
};
