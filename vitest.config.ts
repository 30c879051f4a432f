import { defineConfig } from 'vitest/config';

import { SlowFirst } from './test/slow-first.js';

// Node 20 reads the certificates NODE_EXTRA_CA_CERTS names when every process starts (later versions when TLS is
// first used), and the suite starts thousands of node processes, none of which makes a TLS connection that needs
// them: the suite's processes run without it. npm, which does need it, gets it back (test/helpers/node22.ts).
if (process.env.NODE_EXTRA_CA_CERTS !== undefined) {
  process.env.SUPERVISE_TEST_EXTRA_CA_CERTS = process.env.NODE_EXTRA_CA_CERTS;
  delete process.env.NODE_EXTRA_CA_CERTS;
}

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
    sequence: { sequencer: SlowFirst },
  },
});
