import { setFlagsFromString } from 'node:v8';

import { acceptStrategy } from '../accept/index.js';
import type { SupervisorOptions } from '../config/options.js';

/**
 * The master's V8 flags that depend on its options, set once they are known (the bin sets the rest before it
 * loads anything: code-cache.ts's BIN_V8_FLAGS).
 *
 * A master whose own code mostly waits (`--accept shared`, the default, without --sticky):
 * - Compacts on every full collection. The memory reducer's collections (code-cache.ts's BIN_V8_FLAGS) move
 *   objects only out of pages at least a fifth free, and the start's garbage dies spread thinly over the old
 *   generation's pages: whether a page crossed that line decided whether an idle master kept two pages (half a
 *   megabyte) more, from one build to the next. Its heap is a few megabytes and full collections are rare, so moving
 *   all of it costs little.
 *
 * A master whose own code runs for every connection (--accept round-robin hands each one to a worker, --sticky
 * reads and routes each one) turns V8's optimizing compiler (TurboFan) back on, and stops optimizing for size:
 * there the optimized code is what keeps its per-connection CPU cost down. The bin turned both off (the first
 * optimization pages in megabytes of the compiler, for a process whose code mostly waits).
 */
export function masterV8Flags(o: Pick<SupervisorOptions, 'sticky' | 'accept'>): readonly string[] {
  if (o.sticky || acceptStrategy(o.accept).masterHandlesConnections) return ['--opt', '--no-optimize-for-size'];
  return ['--compact-on-every-full-gc'];
}

export function setMasterV8Flags(o: Pick<SupervisorOptions, 'sticky' | 'accept'>): void {
  for (const flag of masterV8Flags(o)) setFlagsFromString(flag);
}
