import { defineConfig } from 'vitest/config';

// The deploy kit's end-to-end test (real Prometheus and Alertmanager; about 2 minutes): run by
// `npm run test:deploy` and `.ci/run`, not by `npm test`.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    pool: 'forks',
    sequence: { concurrent: false },
  },
});
