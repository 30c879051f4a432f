import { describe, expect, it } from 'vitest';
import type { Outcomes } from '@supervise/worker-sdk/protocol';
import { emptyOutcomes, latencyBucket } from '@supervise/worker-sdk/outcomes';

import { type CanaryLimits, describeVerdict, judgeCanary } from '../../src/rollout/canary-verdict.js';

const LIMITS: CanaryLimits = {
  minRequests: 100,
  maxErrorRate: 0.01,
  maxErrorRatio: 2,
  maxLatencyRatio: 2,
  latencyAllowanceMs: 1,
};

/** `n` responses at `ms`, of which `errors` are 500s, and `resets` reset requests. */
function counts(n: number, ms: number, errors = 0, resets = 0): Outcomes {
  const o = emptyOutcomes();
  o.status[1] = n - errors;
  o.status[4] = errors;
  o.latency[latencyBucket(ms)] = n;
  o.latencySumMs = n * ms;
  o.reset = resets;
  return o;
}

describe('the canary verdict', () => {
  it('passes a canary that does as well as the old workers', () => {
    const v = judgeCanary(counts(200, 10), counts(800, 10), LIMITS);
    expect(v).toMatchObject({ result: 'pass', failed: [] });
  });

  it('fails a canary with one request in five answered 500, naming each figure and its limit', () => {
    const v = judgeCanary(counts(200, 10, 40), counts(800, 10), LIMITS);
    expect(v).toMatchObject({ result: 'fail', failed: ['errors'], errorLimit: 0.01 });
    expect(v.canary.errorRate).toBeCloseTo(0.2);
    expect(describeVerdict(v, LIMITS, 2500)).toMatch(
      /^canary failed on errors: errors 20\.0% \(40 of 200; limit 1\.0%, old 0\.0% of 800\), p99 [\d.]+ ms \(1\.0x\) \(limit [\d.]+ ms = 2x old [\d.]+ ms \+ 1 ms\), 200 requests \(min 100\) in 2\.5 s$/,
    );
  });

  it('counts resets as errors', () => {
    expect(judgeCanary(counts(200, 10, 0, 5), counts(800, 10), LIMITS).failed).toEqual(['errors']);
  });

  it('measures errors against the old workers when they fail too (the relative limit)', () => {
    // The old ones answer 5% 500s (a flaky backend): the canary may reach 10%.
    expect(judgeCanary(counts(200, 10, 16), counts(800, 10, 40), LIMITS)).toMatchObject({ result: 'pass' });
    const worse = judgeCanary(counts(200, 10, 24), counts(800, 10, 40), LIMITS);
    expect(worse).toMatchObject({ result: 'fail', failed: ['errors'] });
    expect(worse.errorLimit).toBeCloseTo(0.1);
  });

  it('fails a canary three times slower on latency, not one a little slower', () => {
    expect(judgeCanary(counts(200, 30), counts(800, 10), LIMITS)).toMatchObject({
      result: 'fail',
      failed: ['latency'],
    });
    expect(judgeCanary(counts(200, 13), counts(800, 10), LIMITS)).toMatchObject({ result: 'pass' });
  });

  it('adds the allowance to the latency limit: a sub-millisecond p99 three times the old one passes', () => {
    expect(judgeCanary(counts(200, 0.5), counts(800, 0.15), LIMITS)).toMatchObject({ result: 'pass' });
    const v = judgeCanary(counts(200, 30), counts(800, 10), { ...LIMITS, latencyAllowanceMs: 15 });
    expect(v).toMatchObject({ result: 'pass' });
    expect(v.latencyLimitMs).toBeCloseTo(2 * v.old.p99Ms! + 15);
  });

  it('fails on both at once', () => {
    expect(judgeCanary(counts(200, 40, 50), counts(800, 10), LIMITS).failed).toEqual(['errors', 'latency']);
  });

  it('gives no verdict below the minimum request count, whatever the figures', () => {
    const v = judgeCanary(counts(99, 40, 50), counts(800, 10), LIMITS);
    expect(v).toMatchObject({ result: 'insufficient', failed: [] });
    expect(describeVerdict(v, LIMITS, 60_000)).toMatch(
      /^canary: not enough traffic for a verdict: .* 99 requests \(min 100\) in 60\.0 s$/,
    );
  });

  it('has no latency limit when a side has no responses', () => {
    const v = judgeCanary(counts(200, 10), emptyOutcomes(), LIMITS);
    expect(v.latencyLimitMs).toBeNull();
    expect(v.result).toBe('pass');
  });
});
