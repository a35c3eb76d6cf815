import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    // the skip reporter ends every run with what was skipped and why (test/helpers/real-parts.ts)
    reporters: ['default', './test/helpers/skip-reporter.ts'],
  },
});
