import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    // The machine is shared and has 2 cores: browser round trips may take seconds under load.
    expect: { poll: { timeout: 5000, interval: 50 } },
  },
});
