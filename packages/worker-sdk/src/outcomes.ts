import type { Outcomes } from './protocol.js';

/**
 * The latency histogram's bucket bounds, in ms: the R10 series (ten steps a decade, each about 1.26 times the
 * last) from 0.1 ms to 80 s. Fine enough that a p99 read from it is within a quarter of the true one, and it
 * holds Prometheus' default buckets (5 ms to 10 s) exactly, so /metrics can expose those without re-binning.
 * Shared by the worker (which counts) and the master (which compares): both must read the same bounds.
 */
export const LATENCY_BOUNDS_MS: readonly number[] = (() => {
  const steps = [1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5, 6.3, 8];
  const bounds: number[] = [];
  for (let exp = -1; exp <= 4; exp++) for (const s of steps) bounds.push(Number((s * 10 ** exp).toPrecision(3)));
  return bounds;
})();

/** The index of the bucket `ms` falls in (the first bound at or above it; the last, +Inf, beyond them all). */
export function latencyBucket(ms: number): number {
  const bounds = LATENCY_BOUNDS_MS;
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (bounds[mid]! < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function emptyOutcomes(): Outcomes {
  return {
    status: [0, 0, 0, 0, 0],
    reset: 0,
    latency: new Array(LATENCY_BOUNDS_MS.length + 1).fill(0),
    latencySumMs: 0,
  };
}

function addInto(into: Outcomes, o: Outcomes, sign: 1 | -1): void {
  for (let i = 0; i < into.status.length; i++) into.status[i]! += sign * (o.status[i] ?? 0);
  for (let i = 0; i < into.latency.length; i++) into.latency[i]! += sign * (o.latency[i] ?? 0);
  into.reset += sign * o.reset;
  into.latencySumMs += sign * o.latencySumMs;
}

/** The sum of several workers' counts. */
export function sumOutcomes(all: Iterable<Outcomes>): Outcomes {
  const total = emptyOutcomes();
  for (const o of all) addInto(total, o, 1);
  return total;
}

/** What happened between two readings of the same counters (`before` may be empty: since the start). */
export function outcomesSince(now: Outcomes, before: Outcomes): Outcomes {
  const d = emptyOutcomes();
  addInto(d, now, 1);
  addInto(d, before, -1);
  return d;
}

/** Finished responses. */
export function responses(o: Outcomes): number {
  return o.status.reduce((a, b) => a + b, 0);
}

/**
 * The latency below which `q` of the responses finished, interpolated within its bucket (as Prometheus'
 * histogram_quantile does); null without responses. A quantile in the +Inf bucket reads as the last bound.
 */
export function latencyQuantile(o: Outcomes, q: number): number | null {
  const total = o.latency.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < o.latency.length; i++) {
    const count = o.latency[i]!;
    if (count > 0 && seen + count >= rank) {
      const upper = LATENCY_BOUNDS_MS[i] ?? LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]!;
      if (i >= LATENCY_BOUNDS_MS.length) return upper;
      const lower = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1]!;
      return lower + (upper - lower) * ((rank - seen) / count);
    }
    seen += count;
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]!;
}
