/** Server-sent-event framing shared by every streaming endpoint (`data: {...}\n\n` … `data: [DONE]\n\n`). */
import type { RequestContext } from './context';
import { commonHeaders, sleep } from './http';

export interface SseFrame {
  /** Named events (`event: response.created`), as the Responses API sends them. */
  event?: string;
  data: unknown;
}

function formatFrame(frame: SseFrame): string {
  const head = frame.event ? `event: ${frame.event}\n` : '';
  return `${head}data: ${JSON.stringify(frame.data)}\n\n`;
}

const DONE_FRAME = 'data: [DONE]\n\n';

/** A `data:` line whose JSON is cut off (the `malformed` fault for streams). */
function brokenFrame(frame: SseFrame): string {
  const json = JSON.stringify(frame.data);
  return `${frame.event ? `event: ${frame.event}\n` : ''}data: ${json.slice(0, Math.max(1, Math.floor(json.length / 2)))}\n\n`;
}

/**
 * Streams the frames with `chunkDelayMs` between them and a final `[DONE]`.
 * Faults: `truncate` sends the first half then destroys the socket (no `[DONE]`);
 * `malformed` replaces one frame with invalid JSON.
 */
export async function sendSse(ctx: RequestContext, frames: SseFrame[]): Promise<void> {
  const { res, state } = ctx;
  if (res.destroyed) return;
  res.writeHead(200, {
    ...commonHeaders(ctx),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  const cutAt = ctx.fault === 'truncate' ? Math.max(1, Math.floor(frames.length / 2)) : Infinity;
  const brokenAt = ctx.fault === 'malformed' ? Math.min(1, frames.length - 1) : -1;
  for (let i = 0; i < frames.length; i++) {
    if (i > 0) await sleep(state.chunkDelayMs, state.closing);
    if (res.destroyed || state.closing.aborted) return;
    if (i >= cutAt) break;
    await write(ctx, i === brokenAt ? brokenFrame(frames[i]!) : formatFrame(frames[i]!));
  }
  if (ctx.fault === 'truncate') {
    res.destroy();
    return;
  }
  await sleep(state.chunkDelayMs, state.closing);
  if (!res.destroyed) res.end(DONE_FRAME);
}

function write(ctx: RequestContext, text: string): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      ctx.res.off('close', done);
      resolve();
    };
    ctx.res.once('close', done);
    ctx.res.write(text, done);
  });
}

/**
 * `stream_options.include_usage` as the real API does it: with it, every chunk carries
 * `"usage": null` and one last chunk has `"choices": []` and the usage; without it, no usage at all.
 */
export function chunkFrames(chunks: Array<Record<string, unknown>>, usage: unknown, includeUsage: boolean): SseFrame[] {
  const withUsage = includeUsage && usage !== undefined && chunks.length > 0;
  const frames: SseFrame[] = chunks.map((chunk) => ({ data: withUsage ? { ...chunk, usage: null } : chunk }));
  if (withUsage) frames.push({ data: { ...chunks[chunks.length - 1], choices: [], usage } });
  return frames;
}
