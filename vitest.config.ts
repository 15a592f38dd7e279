import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['spec/**/*.spec.ts'],
    setupFiles: ['spec/setup/no-unhandled.ts'],
    testTimeout: 20_000,
    reporters: ['default', './spec/setup/summary-reporter.ts'],
    // Vitest reports unhandled errors and rejections and fails the run on them;
    // the setup file additionally turns any `unhandledRejection` seen during a test into a failure of that test.
    dangerouslyIgnoreUnhandledErrors: false,
  },
})
