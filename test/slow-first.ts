/**
 * The order in which vitest starts the test files. With timings from an earlier run (node_modules/.vite) vitest
 * starts the slowest files first, so that the pool ends evenly: its own order is kept. Without them (a fresh
 * clone, as CI's first run is) it starts the largest files first, and a short file that runs long, started
 * late, leaves one fork working while the others idle. There, the files known to run longest start first.
 */
import { relative } from 'node:path';

import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** The longest-running files, longest first (whole-suite runs on 2 cores); an outdated entry only reorders. */
const SLOWEST = [
  'test/e2e/sticky/sticky.test.ts',
  'test/e2e/faults/faults.test.ts',
  'test/e2e/rollout/rollout-pace.test.ts',
  'test/e2e/drain/auto-drain.test.ts',
  'test/e2e/rollout/canary.test.ts',
  'test/e2e/rollout/canary-observe.test.ts',
  'test/e2e/deploy/upgrade.test.ts',
  'test/e2e/accept/accept.test.ts',
  'test/e2e/rollout/watch.test.ts',
  'test/e2e/drain/sdk-cluster.test.ts',
  'test/e2e/cli/group-signal.test.ts',
  'test/e2e/rollout/core.test.ts',
  'test/e2e/rollout/rollout.test.ts',
  'test/e2e/rollout/scale.test.ts',
];

export class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const { root } = this.ctx.config;
    const name = (f: TestSpecification) => relative(root, f.moduleId);
    const timed = sorted.some((f) => this.ctx.cache.getFileTestResults(`${f.project.name}:${name(f)}`) !== undefined);
    if (timed) return sorted;
    const rank = (f: TestSpecification) => {
      const i = SLOWEST.indexOf(name(f));
      return i === -1 ? SLOWEST.length : i;
    };
    // Array.prototype.sort is stable: the files off the list keep vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
