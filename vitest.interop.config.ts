import { defineConfig } from 'vitest/config';

// Interop suites: the same behaviour against external brokers (Mosquitto, Redis-backed Aedes)
// started by the tests from Debian's packages. `.ci/run` installs them.
export default defineConfig({
  test: {
    include: ['test/interop/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
