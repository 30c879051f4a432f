import { describe, expect, it } from 'vitest';

import { OutcomeCounter } from '../src/drain/outcomes.js';
import {
  emptyOutcomes,
  LATENCY_BOUNDS_MS,
  latencyBucket,
  latencyQuantile,
  outcomesSince,
  responses,
  sumOutcomes,
} from '../src/outcomes.js';

describe('the latency histogram', () => {
  it('has R10 bounds from 0.1 ms to 80 s, holding the Prometheus default buckets', () => {
    expect(LATENCY_BOUNDS_MS[0]).toBe(0.1);
    expect(LATENCY_BOUNDS_MS.at(-1)).toBe(80_000);
    expect(LATENCY_BOUNDS_MS).toHaveLength(60);
    for (const ms of [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]) expect(LATENCY_BOUNDS_MS).toContain(ms);
    for (let i = 1; i < LATENCY_BOUNDS_MS.length; i++) {
      const step = LATENCY_BOUNDS_MS[i]! / LATENCY_BOUNDS_MS[i - 1]!;
      expect(step).toBeGreaterThan(1.2);
      expect(step).toBeLessThan(1.3);
    }
  });

  it('puts a latency in the first bucket whose bound is at or above it, beyond the last in +Inf', () => {
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(0.1)).toBe(0);
    expect(latencyBucket(0.11)).toBe(1);
    expect(latencyBucket(10)).toBe(LATENCY_BOUNDS_MS.indexOf(10));
    expect(latencyBucket(10.01)).toBe(LATENCY_BOUNDS_MS.indexOf(10) + 1);
    expect(latencyBucket(1e9)).toBe(LATENCY_BOUNDS_MS.length);
  });

  it('counts status classes, latencies and resets, and reads a copy', () => {
    const c = new OutcomeCounter();
    for (let i = 0; i < 98; i++) c.finished(200, 9);
    c.finished(500, 40);
    c.finished(404, 40);
    c.finished(0, 1);
    c.reset(2);
    const o = c.read();
    expect(o.status).toEqual([0, 98, 0, 1, 1]);
    expect(o.reset).toBe(2);
    expect(responses(o)).toBe(100);
    expect(o.latency.reduce((a, b) => a + b, 0)).toBe(101);
    expect(o.latencySumMs).toBe(98 * 9 + 80 + 1);
    c.finished(200, 1);
    expect(o.status[1]).toBe(98);
  });

  it('reads quantiles by interpolating within a bucket, and none without responses', () => {
    expect(latencyQuantile(emptyOutcomes(), 0.99)).toBeNull();
    const c = new OutcomeCounter();
    for (let i = 0; i < 100; i++) c.finished(200, 10);
    const p99 = latencyQuantile(c.read(), 0.99)!;
    // 10 ms is a bound: every response is in the bucket (8, 10].
    expect(p99).toBeGreaterThan(8);
    expect(p99).toBeLessThanOrEqual(10);
    const slow = new OutcomeCounter();
    for (let i = 0; i < 100; i++) slow.finished(200, 30);
    expect(latencyQuantile(slow.read(), 0.99)! / p99).toBeGreaterThan(2.5);
  });

  it('sums workers and takes differences between two readings', () => {
    const a = new OutcomeCounter();
    a.finished(200, 1);
    const before = a.read();
    a.finished(500, 1);
    a.reset(1);
    const d = outcomesSince(a.read(), before);
    expect(d.status).toEqual([0, 0, 0, 0, 1]);
    expect(d.reset).toBe(1);
    const total = sumOutcomes([a.read(), a.read()]);
    expect(total.status[1]).toBe(2);
    expect(total.reset).toBe(2);
  });
});
