// A provider that bills as hard as it may: it counts a chat request's text 3% and 4 tokens above our
// tokenizer, every image at its largest tile count for its detail, every answer of `n` at its
// full max_tokens. It keeps the bill (gpt-4o list prices from data/prices.json), so that a test
// can hold a budget against what the provider charged, not against our own metrics.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { chatCompletions } from '../../src/operations/chat';
import { estimateInputTokens } from '../../src/cost/tokens';
import { REPO } from './run-app';

const prices = JSON.parse(readFileSync(join(REPO, 'data/prices.json'), 'utf8')).providers.openai['gpt-4o'];

export async function startBillingUpstream(opts: { delayMs?: number } = {}) {
  let billedUsd = 0;
  let calls = 0;
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString('utf8') || '{}');
      let prompt = Math.ceil(estimateInputTokens(chatCompletions, body) * 1.03) + 4;
      for (const m of body.messages ?? []) for (const p of Array.isArray(m.content) ? m.content : []) if (p?.type === 'image_url') prompt += p.image_url?.detail === 'low' ? 85 : 85 + 170 * 8;
      const n = body.n ?? 1;
      const perChoice = body.max_completion_tokens ?? body.max_tokens ?? 16;
      const completion = perChoice * n;
      billedUsd += (prompt * prices.input + completion * prices.output) / 1e6;
      calls++;
      const answer = () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: `chatcmpl-bill-${calls}`,
            object: 'chat.completion',
            created: 1,
            model: 'gpt-4o-2024-08-06',
            choices: Array.from({ length: n }, (_, index) => ({ index, message: { role: 'assistant', content: 'x'.repeat(perChoice) }, finish_reason: 'length' })),
            usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
          }),
        );
      };
      if (opts.delayMs) setTimeout(answer, opts.delayMs);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    get billedUsd() {
      return billedUsd;
    },
    get calls() {
      return calls;
    },
    reset() {
      billedUsd = 0;
      calls = 0;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
