// Chat streams from providers that place usage in every way seen in the wild, to hold the app's
// transcript against the bare SDK's. The path picks the provider's habit:
//   /protocol/v1  OpenAI's: with stream_options.include_usage, "usage": null on every chunk and a
//                 last chunk with no choices and the usage; without it, no usage at all
//   /unasked/v1   always a usage-only last chunk, asked or not, and no nulls
//   /last/v1      always usage on the last content chunk (the one with finish_reason)
//   /twice/v1     always usage on the last content chunk and again in a usage-only chunk
import { createServer } from 'node:http';

const USAGE = { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 };

function chunk(delta: object, finish: string | null, extra: object = {}) {
  return { id: 'chatcmpl-u', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini-2024-07-18', choices: [{ index: 0, delta, finish_reason: finish }], ...extra };
}

function framesFor(habit: string, asked: boolean): object[] {
  const parts = [chunk({ role: 'assistant', content: '' }, null), chunk({ content: 'Hi' }, null), chunk({ content: ' there' }, null), chunk({}, 'stop')];
  const usageOnly = { id: 'chatcmpl-u', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini-2024-07-18', choices: [], usage: USAGE };
  switch (habit) {
    case 'protocol':
      return asked ? [...parts.map((p) => ({ ...p, usage: null })), usageOnly] : parts;
    case 'unasked':
      return [...parts, usageOnly];
    case 'last':
      return [...parts.slice(0, -1), { ...parts[parts.length - 1]!, usage: USAGE }];
    case 'twice':
      return [...parts.slice(0, -1), { ...parts[parts.length - 1]!, usage: USAGE }, usageOnly];
    default:
      throw new Error(`unknown habit ${habit}`);
  }
}

export async function startUsageStreamServer() {
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const habit = (req.url ?? '').split('/')[1] ?? '';
      const body = JSON.parse(Buffer.concat(parts).toString('utf8') || '{}');
      const asked = body.stream_options?.include_usage === true;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      for (const f of framesFor(habit, asked)) res.write(`data: ${JSON.stringify(f)}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}
