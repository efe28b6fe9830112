import { describeNextApp } from './next-suite';

/**
 * A Next.js app (App Router) built with `next build` and served with `next start`, governed from
 * its own instrumentation.js: `register()` imports llm-governor/register in the Node.js runtime,
 * and next.config lists llm-governor in serverExternalPackages so that Node, not the bundler,
 * loads it. Nothing else in the app changes.
 */
describeNextApp({ instrumentationHook: true, ways: [{ label: 'its instrumentation.js hook' }] });
