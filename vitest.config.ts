import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Integration tests start real clusters and mostly wait on them (drains, readiness, timers): three files at a
    // time keep two cores busy, and every wait in them is bounded by events, not by how long something takes.
    poolOptions: { forks: { maxForks: 3, minForks: 1 } },
    reporters: ['default'],
  },
});
