import { LATENCY_BOUNDS_MS, latencyBucket } from '../outcomes.js';
import type { Outcomes } from '../protocol.js';

/**
 * The engine's outcome counters: typed arrays allocated once, so that counting a response allocates nothing
 * (a bucket search of six comparisons and three increments). Read by the heartbeat, a copy per beat.
 */
export class OutcomeCounter {
  private readonly status = new Float64Array(5);
  private readonly latency = new Float64Array(LATENCY_BOUNDS_MS.length + 1);
  private latencySumMs = 0;
  private resets = 0;

  finished(statusCode: number, ms: number): void {
    const cls = (statusCode / 100) | 0;
    if (cls >= 1 && cls <= 5) this.status[cls - 1]!++;
    this.latency[latencyBucket(ms)]!++;
    this.latencySumMs += ms;
  }

  /** Requests whose connection closed before their response finished. */
  reset(count: number): void {
    this.resets += count;
  }

  read(): Outcomes {
    return {
      status: Array.from(this.status),
      reset: this.resets,
      latency: Array.from(this.latency),
      latencySumMs: Math.round(this.latencySumMs * 1000) / 1000,
    };
  }
}
