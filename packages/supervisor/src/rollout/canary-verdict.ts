import type { Outcomes } from '@supervise/worker-sdk/protocol';
import { latencyQuantile, responses } from '@supervise/worker-sdk/outcomes';

/** The limits a canary is judged by (the --canary-* options). */
export interface CanaryLimits {
  /** Below this many requests (the canary's, over the bake) there is no verdict: not enough traffic. */
  minRequests: number;
  /** The canary's error rate (5xx and resets over its requests) above which it fails, whatever the old one's. */
  maxErrorRate: number;
  /** ... unless the old workers' own rate, times this, is higher: a flaky backend fails both alike. */
  maxErrorRatio: number;
  /** The canary's p99 latency above the old workers' times this (plus the allowance) fails it. */
  maxLatencyRatio: number;
  /**
   * Added to the latency limit: a fresh process runs colder than warm old ones (JIT, heap, caches), and at
   * millisecond latencies one garbage collection or one busy core is the whole difference, which no user sees.
   */
  latencyAllowanceMs: number;
}

/** One side's figures over the bake. */
export interface CanaryFigures {
  /** Finished responses and requests reset before their response. */
  requests: number;
  /** 5xx responses and resets. */
  errors: number;
  errorRate: number;
  /** null without responses. */
  p99Ms: number | null;
}

export type VerdictResult = 'pass' | 'fail' | 'insufficient';

export interface CanaryVerdict {
  result: VerdictResult;
  canary: CanaryFigures;
  old: CanaryFigures;
  /** The error rate the canary had to stay at or under. */
  errorLimit: number;
  /** The p99 the canary had to stay at or under; null when either side had no responses. */
  latencyLimitMs: number | null;
  /** What failed it. */
  failed: ('errors' | 'latency')[];
}

export function figures(o: Outcomes): CanaryFigures {
  const errors = (o.status[4] ?? 0) + o.reset;
  const requests = responses(o) + o.reset;
  return { requests, errors, errorRate: requests === 0 ? 0 : errors / requests, p99Ms: latencyQuantile(o, 0.99) };
}

/**
 * The verdict on a canary, from what it and the old workers did over the same interval (pure: the counts in,
 * the verdict out). Errors: the canary's rate against the larger of the absolute limit and the old rate times
 * the relative one. Latency: the canary's p99 against the old p99 times the ratio, plus the allowance.
 */
export function judgeCanary(canary: Outcomes, old: Outcomes, limits: CanaryLimits): CanaryVerdict {
  const c = figures(canary);
  const o = figures(old);
  const errorLimit = Math.max(limits.maxErrorRate, o.errorRate * limits.maxErrorRatio);
  const latencyLimitMs =
    c.p99Ms === null || o.p99Ms === null ? null : o.p99Ms * limits.maxLatencyRatio + limits.latencyAllowanceMs;
  const base = { canary: c, old: o, errorLimit, latencyLimitMs };
  if (c.requests < limits.minRequests) return { ...base, result: 'insufficient', failed: [] };
  const failed: CanaryVerdict['failed'] = [];
  if (c.errorRate > errorLimit) failed.push('errors');
  if (latencyLimitMs !== null && c.p99Ms! > latencyLimitMs) failed.push('latency');
  return { ...base, result: failed.length > 0 ? 'fail' : 'pass', failed };
}

const pct = (x: number): string => `${(x * 100).toFixed(x < 0.001 && x > 0 ? 3 : 1)}%`;
const ms = (x: number | null): string => (x === null ? 'n/a' : `${x < 10 ? x.toFixed(2) : Math.round(x)} ms`);

/** The verdict in one line: each figure beside its limit and the old workers' own. */
export function describeVerdict(v: CanaryVerdict, limits: CanaryLimits, durationMs: number): string {
  const head =
    v.result === 'fail'
      ? `canary failed on ${v.failed.join(' and ')}`
      : v.result === 'pass'
        ? 'canary passed'
        : 'canary: not enough traffic for a verdict';
  const ratio = v.old.p99Ms && v.canary.p99Ms !== null ? ` (${(v.canary.p99Ms / v.old.p99Ms).toFixed(1)}x)` : '';
  return (
    `${head}: errors ${pct(v.canary.errorRate)} (${v.canary.errors} of ${v.canary.requests}; limit ${pct(v.errorLimit)}, ` +
    `old ${pct(v.old.errorRate)} of ${v.old.requests}), ` +
    `p99 ${ms(v.canary.p99Ms)}${ratio} (limit ${ms(v.latencyLimitMs)} = ${limits.maxLatencyRatio}x old ${ms(v.old.p99Ms)} + ${limits.latencyAllowanceMs} ms), ` +
    `${v.canary.requests} requests (min ${limits.minRequests}) in ${(durationMs / 1000).toFixed(1)} s`
  );
}
