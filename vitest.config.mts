import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/unit/**/*.test.ts',
      'test/pipeline/**/*.test.ts',
      'test/core/**/*.test.ts',
      'test/simulator/**/*.test.ts',
      'test/cost/**/*.test.ts',
      'test/guards/**/*.test.ts',
      'test/wire/**/*.test.ts',
      'test/audit/**/*.test.ts',
      'test/deploy/**/*.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
