/** POST audio/transcriptions and audio/translations (multipart uploads). */
import type { RequestContext } from '../context';
import { sendError, sendJson, sendText } from '../http';
import { invalidParameter, missingParameter } from '../errors';
import { countTokens } from '../tokens';
import { spokenText } from '../text';
import type { MultipartFile } from '../multipart';

/** Audio tokens per second for the gpt-4o transcription models. */
const AUDIO_TOKENS_PER_SECOND = 10;
/** Bytes per second assumed for compressed uploads (128 kbit/s). */
const COMPRESSED_BYTES_PER_SECOND = 16_000;

/** Duration in seconds: exact for PCM WAV, else estimated from the size. */
function audioDuration(data: Buffer): number {
  if (data.length >= 44 && data.toString('ascii', 0, 4) === 'RIFF' && data.toString('ascii', 8, 12) === 'WAVE') {
    const byteRate = data.readUInt32LE(28);
    const dataAt = data.indexOf('data', 12, 'ascii');
    if (byteRate > 0 && dataAt > 0) return Math.min(data.readUInt32LE(dataAt + 4), data.length - dataAt - 8) / byteRate;
  }
  return Math.max(0.1, data.length / COMPRESSED_BYTES_PER_SECOND);
}

function timestamp(seconds: number, separator: string): string {
  const ms = Math.round(seconds * 1000);
  const pad = (v: number, w = 2) => String(v).padStart(w, '0');
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}${separator}${pad(ms % 1000, 3)}`;
}

interface Segment {
  start: number;
  end: number;
  text: string;
}

function segmentsOf(text: string, duration: number): Segment[] {
  const sentences = text
    .match(/[^.!?]+[.!?]*/g)
    ?.map((s) => s.trim())
    .filter(Boolean) ?? [text];
  const words = sentences.map((s) => s.split(/\s+/).length);
  const total = words.reduce((a, b) => a + b, 0) || 1;
  let at = 0;
  return sentences.map((s, i) => {
    const start = at;
    at += (duration * words[i]!) / total;
    return { start, end: at, text: ` ${s}` };
  });
}

function verboseJson(task: string, text: string, duration: number, withWords: boolean) {
  const segments = segmentsOf(text, duration);
  const out: Record<string, unknown> = {
    task,
    language: 'english',
    duration: Number(duration.toFixed(2)),
    text,
    segments: segments.map((s, id) => ({
      id,
      seek: 0,
      start: Number(s.start.toFixed(2)),
      end: Number(s.end.toFixed(2)),
      text: s.text,
      tokens: [],
      temperature: 0,
      avg_logprob: -0.25,
      compression_ratio: 1.2,
      no_speech_prob: 0.01,
    })),
  };
  if (withWords) {
    out.words = segments.flatMap((s) => {
      const words = s.text.trim().split(/\s+/);
      const step = (s.end - s.start) / words.length;
      return words.map((word, i) => ({ word: word.replace(/[.!?]$/, ''), start: Number((s.start + i * step).toFixed(2)), end: Number((s.start + (i + 1) * step).toFixed(2)) }));
    });
  }
  return out;
}

function handleAudioText(ctx: RequestContext, task: 'transcribe' | 'translate'): void {
  const { body } = ctx;
  const file: MultipartFile | undefined = ctx.files.find((f) => f.field === 'file');
  if (!file) return sendError(ctx, missingParameter('file'));
  const model = ctx.model;
  if (!model) return sendError(ctx, missingParameter('model'));
  const format = String(body.response_format ?? 'json');
  const tokenModel = model !== 'whisper-1';
  if (tokenModel && format !== 'json' && format !== 'text') {
    return sendError(ctx, invalidParameter('response_format', `response_format '${format}' is not compatible with model '${model}'. Use 'json' or 'text' instead.`));
  }
  const duration = audioDuration(file.data);
  const text = spokenText(ctx.rng, duration);
  if (format === 'text') return sendText(ctx, `${text}\n`);
  if (format === 'srt' || format === 'vtt') return sendText(ctx, subtitles(format, text, duration));

  const granularities = [body['timestamp_granularities[]'], body.timestamp_granularities].flat();
  let usage: Record<string, unknown> = { type: 'duration', seconds: Math.ceil(duration) };
  if (tokenModel) {
    const audioTokens = Math.ceil(duration * AUDIO_TOKENS_PER_SECOND);
    const textTokens = typeof body.prompt === 'string' ? countTokens(body.prompt, 'o200k_base') : 0;
    const output = countTokens(text, 'o200k_base');
    ctx.state.rate.charge(audioTokens + textTokens + output);
    usage = {
      type: 'tokens',
      input_tokens: audioTokens + textTokens,
      input_token_details: { text_tokens: textTokens, audio_tokens: audioTokens },
      output_tokens: output,
      total_tokens: audioTokens + textTokens + output,
    };
  }
  const result = format === 'verbose_json' ? verboseJson(task, text, duration, granularities.includes('word')) : { text };
  sendJson(ctx, 200, ctx.omitUsage ? result : { ...result, usage });
}

function subtitles(format: 'srt' | 'vtt', text: string, duration: number): string {
  const cues = segmentsOf(text, duration).map((s, i) => {
    const range = format === 'srt' ? `${timestamp(s.start, ',')} --> ${timestamp(s.end, ',')}` : `${timestamp(s.start, '.')} --> ${timestamp(s.end, '.')}`;
    return `${format === 'srt' ? `${i + 1}\n` : ''}${range}\n${s.text.trim()}\n`;
  });
  return `${format === 'vtt' ? 'WEBVTT\n\n' : ''}${cues.join('\n')}\n`;
}

export function handleTranscription(ctx: RequestContext): void {
  handleAudioText(ctx, 'transcribe');
}

export function handleTranslation(ctx: RequestContext): void {
  handleAudioText(ctx, 'translate');
}
