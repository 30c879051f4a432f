import { setFlagsFromString } from 'node:v8';

import { acceptStrategy } from '../accept/index.js';
import type { SupervisorOptions } from '../config/options.js';

/**
 * V8's optimizing compiler (TurboFan) is the largest part of what an idle master costs over a bare node: the first
 * optimization pages its code in, megabytes of it, for a process whose code mostly waits. The bin turns it off
 * before it loads anything (code-cache.ts's BIN_V8_FLAGS); Sparkplug and the interpreter still run everything.
 * A master whose own code runs for every connection (--accept round-robin hands each one to a worker, --sticky
 * reads and routes each one) turns it back on, because there the optimized code is what keeps its
 * per-connection CPU cost down, and with it stops optimizing for size (code-cache.ts's BIN_V8_FLAGS).
 */
export function optimizeIfConnectionsPass(o: SupervisorOptions): void {
  if (!o.sticky && !acceptStrategy(o.accept).masterHandlesConnections) return;
  setFlagsFromString('--opt');
  setFlagsFromString('--no-optimize-for-size');
}
