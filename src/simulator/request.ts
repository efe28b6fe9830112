/** Turning a raw request into what the pipeline needs: parsed body, flat headers, credentials, content key. */
import type { IncomingMessage } from 'node:http';
import { hashString } from './prng';
import { boundaryOf, parseMultipart, type MultipartFile } from './multipart';

export interface ParsedBody {
  body: Record<string, any>;
  files: MultipartFile[];
  invalidJson: boolean;
}

export function parseBody(raw: Buffer, contentType: string | undefined): ParsedBody {
  const empty: ParsedBody = { body: {}, files: [], invalidJson: false };
  if (raw.length === 0) return empty;
  const boundary = /multipart\/form-data/i.test(contentType ?? '') ? boundaryOf(contentType) : undefined;
  if (boundary) {
    const form = parseMultipart(raw, boundary);
    return { body: form.fields, files: form.files, invalidJson: false };
  }
  try {
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    return { ...empty, body: parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, any>) : {} };
  } catch {
    return { ...empty, invalidJson: true };
  }
}

export function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[key] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export function hasCredentials(headers: Record<string, string>): boolean {
  return /^Bearer\s+\S+/i.test(headers['authorization'] ?? '') || Boolean(headers['api-key']);
}

/** Request fields that shape delivery or length, not content: left out so limits cut the same answer. */
const NON_CONTENT_FIELDS = new Set([
  'stream',
  'stream_options',
  'stop',
  'n',
  'max_tokens',
  'max_completion_tokens',
  'max_output_tokens',
  'user',
  'metadata',
  'store',
  'response_format',
  'timestamp_granularities',
  'timestamp_granularities[]',
  'encoding_format',
]);

/** Seed material for the request's content PRNG: identical requests give identical answers. */
export function contentKey(op: string, body: Record<string, any>, files: MultipartFile[]): string {
  const rest = Object.fromEntries(Object.entries(body).filter(([key]) => !NON_CONTENT_FIELDS.has(key)));
  const fileKeys = files.map((f) => `${f.field}:${f.data.length}:${hashString(f.data.subarray(0, 4096).toString('latin1'))}`);
  return `${op}|${JSON.stringify(rest)}|${fileKeys.join(',')}`;
}
