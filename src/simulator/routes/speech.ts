/** POST audio/speech: binary audio whose length follows the input text. */
import type { RequestContext } from '../context';
import { sendBytes, sendError } from '../http';
import { invalidParameter, missingParameter } from '../errors';
import type { Prng } from '../prng';
import { wavHeader } from '../wav';

/** Speaking rate: characters of input per second of audio. */
const CHARS_PER_SECOND = 15;

const SPEECH_FORMATS: Record<string, { contentType: string; bytesPerSecond: number }> = {
  mp3: { contentType: 'audio/mpeg', bytesPerSecond: 16_000 },
  opus: { contentType: 'audio/opus', bytesPerSecond: 4_000 },
  aac: { contentType: 'audio/aac', bytesPerSecond: 12_000 },
  flac: { contentType: 'audio/flac', bytesPerSecond: 40_000 },
  wav: { contentType: 'audio/wav', bytesPerSecond: 48_000 },
  pcm: { contentType: 'audio/pcm', bytesPerSecond: 48_000 },
};

function noise(rng: Prng, length: number): Buffer {
  const block = Buffer.alloc(Math.min(length, 4096));
  for (let i = 0; i < block.length; i++) block[i] = rng.int(0, 255);
  const out = Buffer.alloc(length);
  for (let at = 0; at < length; at += block.length) block.copy(out, at);
  return out;
}

export function handleSpeech(ctx: RequestContext): void {
  const { body } = ctx;
  if (!ctx.model) return sendError(ctx, missingParameter('model'));
  if (typeof body.input !== 'string' || !body.input) return sendError(ctx, missingParameter('input'));
  if (!body.voice) return sendError(ctx, missingParameter('voice'));
  const formatName = String(body.response_format ?? 'mp3');
  const format = SPEECH_FORMATS[formatName];
  if (!format) return sendError(ctx, invalidParameter('response_format', `Invalid value: '${formatName}'. Supported values are: ${Object.keys(SPEECH_FORMATS).join(', ')}.`));
  const seconds = Math.max(0.5, body.input.length / CHARS_PER_SECOND / (Number(body.speed) || 1));
  const dataBytes = Math.round(seconds * format.bytesPerSecond) & ~1;
  const samples = noise(ctx.rng, dataBytes);
  const audio = formatName === 'wav' ? Buffer.concat([wavHeader(dataBytes), samples]) : samples;
  if (formatName === 'mp3') audio.write('ID3', 0, 'ascii');
  sendBytes(ctx, 200, format.contentType, audio);
}
