import { defineConfig } from 'vitest/config';

/** `npm run test:hostile`: attacks on real brokers with real sockets (test/hostile/), apart from `npm test`. */
export default defineConfig({
  test: {
    include: ['test/hostile/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One attack at a time: each one loads the machine and measures the broker alone.
    fileParallelism: false,
  },
});
