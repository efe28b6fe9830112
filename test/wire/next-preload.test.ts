import { describeNextApp } from './next-suite';

/**
 * A Next.js app (App Router) built with `next build` and served with `next start`, governed with
 * no change to its code: NODE_OPTIONS loads the preload into the server process. The openai SDK
 * is bundled into the server build and the AI SDK sends with fetch: the wire entry governs both.
 */
describeNextApp({
  instrumentationHook: false,
  ways: [
    { label: 'NODE_OPTIONS="--require llm-governor/register"', nodeOptions: '--require llm-governor/register' },
    { label: 'NODE_OPTIONS="--import llm-governor/register"', nodeOptions: '--import llm-governor/register' },
  ],
});
