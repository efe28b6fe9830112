import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { wavHeader } from '../../src/simulator/wav';
import OpenAI, { AzureOpenAI } from 'openai';
import type { Simulator } from '../../src/simulator/index';

/** The real recorded exchanges, kept in the repository (`test/fixtures/recordings`, see its README). */
export const RECORDINGS_DIR = process.env.LLM_GOVERNOR_RECORDINGS ?? resolve(__dirname, '../fixtures/recordings/openai');
if (!existsSync(RECORDINGS_DIR)) throw new Error(`recordings not found at ${RECORDINGS_DIR} (set LLM_GOVERNOR_RECORDINGS)`);

export interface Exchange {
  method: string;
  path: string;
  request: Record<string, any>;
  status: number;
  content_type: string;
  response: any;
}

export function recording(name: string): Exchange[] {
  return JSON.parse(readFileSync(`${RECORDINGS_DIR}/${name}.json`, 'utf8')) as Exchange[];
}

export function allRecordings(): Array<{ file: string; exchange: Exchange }> {
  return readdirSync(RECORDINGS_DIR)
    .filter((f) => f.endsWith('.json'))
    .flatMap((file) => recording(file.replace(/\.json$/, '')).map((exchange) => ({ file, exchange })));
}

/** The JSON objects of an SSE body (`data: {...}` lines), without `[DONE]`. */
export function sseData(text: string): any[] {
  return text
    .split('\n\n')
    .map((frame) =>
      frame
        .split('\n')
        .find((l) => l.startsWith('data: '))
        ?.slice(6),
    )
    .filter((d): d is string => d !== undefined && d !== '[DONE]')
    .map((d) => JSON.parse(d));
}

export function openai(sim: Simulator, extra: Record<string, unknown> = {}): OpenAI {
  return new OpenAI({ baseURL: sim.openaiBaseURL, apiKey: 'sk-test', maxRetries: 0, logLevel: 'off', ...extra });
}

export function xai(sim: Simulator): OpenAI {
  return new OpenAI({ baseURL: sim.xaiBaseURL, apiKey: 'xai-test', maxRetries: 0 });
}

export function azure(sim: Simulator, extra: Record<string, unknown> = {}): AzureOpenAI {
  return new AzureOpenAI({ endpoint: sim.azureEndpoint, apiKey: 'azure-key', apiVersion: '2024-10-21', maxRetries: 0, ...extra });
}

/** A raw POST with a bearer key, for checking exact wire output. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { authorization: 'Bearer sk-test', 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** A PCM WAV file of the given length (silence), for transcription tests. */
export function wavFile(seconds: number, sampleRate = 16_000): Buffer {
  const dataBytes = Math.round(seconds * sampleRate) * 2;
  return Buffer.concat([wavHeader(dataBytes, sampleRate), Buffer.alloc(dataBytes)]);
}
