// The demo's sample app: ordinary openai SDK code. It never imports llm-governor; `npm run demo`
// runs it under `node --import llm-governor/register`. It reads the providers' standard variables.
import OpenAI, { AzureOpenAI } from 'openai';

const seconds = Number(process.env.DEMO_SECONDS ?? 25);
const forever = process.env.DEMO_FOREVER === '1';
const concurrency = Number(process.env.DEMO_CONCURRENCY ?? 4);

// OpenAI's base URL comes from DEMO_OPENAI_BASE_URL, not OPENAI_BASE_URL: AzureOpenAI() reads
// OPENAI_BASE_URL too, and would then send Azure traffic to the OpenAI endpoint.
const openai = new OpenAI({ baseURL: process.env.DEMO_OPENAI_BASE_URL }); // OPENAI_API_KEY
const azure = new AzureOpenAI(); // AZURE_OPENAI_API_KEY, AZURE_OPENAI_ENDPOINT, OPENAI_API_VERSION
const xai = new OpenAI({ apiKey: process.env.XAI_API_KEY, baseURL: process.env.XAI_API_ENDPOINT });

const questions = [
  'Which ocean contains Bouvet Island?',
  'Summarise the plot of Hamlet in two sentences.',
  'Give three names for a lighthouse keeper cat.',
  'What is the boiling point of water at 2000 m altitude?',
  'Explain idempotency keys to a new engineer.',
  'Write a haiku about on-call rotations.',
];
let turn = 0;
const ask = () => [{ role: 'user', content: questions[turn++ % questions.length] }];

async function drain(stream) {
  let text = '';
  for await (const chunk of stream) text += chunk.choices?.[0]?.delta?.content ?? '';
  return text;
}

const workloads = [
  () => openai.chat.completions.create({ model: 'gpt-4o-mini', messages: ask(), max_tokens: 120 }),
  () => openai.chat.completions.create({ model: 'gpt-4o', messages: ask(), stream: true, max_tokens: 300 }).then(drain),
  () => openai.responses.create({ model: 'gpt-4.1-mini', input: ask()[0].content, max_output_tokens: 300 }),
  // The same embeddings every time: opted in to llm-governor's response cache by a header (a
  // plain request option; without the preload it is just sent along and ignored).
  () => openai.embeddings.create({ model: 'text-embedding-3-small', input: questions }, { headers: { 'x-llm-governor-cache': 'on' } }),
  () => azure.chat.completions.create({ model: 'gpt-4o', messages: ask(), max_tokens: 300 }),
  () => azure.chat.completions.create({ model: 'gpt-4o', messages: ask(), stream: true, max_tokens: 300 }).then(drain),
  // A deployment the config does not map to a model: priced as the provider's dearest model,
  // flagged estimated, and reported (the unknown-pricing alert and audit event).
  () => azure.chat.completions.create({ model: 'support-bot', messages: ask(), max_tokens: 100 }),
  () => xai.chat.completions.create({ model: 'grok-3-mini', messages: ask(), max_tokens: 600 }),
  () => xai.chat.completions.create({ model: 'grok-4', messages: ask(), stream: true, max_tokens: 600 }).then(drain),
];

let ok = 0;
let failed = 0;
const end = Date.now() + seconds * 1000;
async function worker(id) {
  let i = id;
  while (forever || Date.now() < end) {
    try {
      await workloads[i++ % workloads.length]();
      ok++;
    } catch (err) {
      failed++;
      if (!(err instanceof OpenAI.APIError)) console.error('unexpected error:', err);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

await Promise.all(Array.from({ length: concurrency }, (_, id) => worker(id)));
console.log(JSON.stringify({ done: true, ok, failed }));
// Stay up until the runner has taken its last scrape (it closes our stdin).
console.log('READY');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
