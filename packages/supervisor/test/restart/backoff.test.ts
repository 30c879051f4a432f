import { describe, expect, it } from 'vitest';

import { BootBreaker, backoffDelay } from '../../src/restart/backoff.js';

describe('backoffDelay', () => {
  it('doubles per attempt within [half, full] of the exponential delay', () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const exp = 100 * 2 ** attempt;
      expect(backoffDelay(attempt, 100, 10_000, () => 0)).toBe(exp / 2);
      expect(backoffDelay(attempt, 100, 10_000, () => 1)).toBe(exp);
    }
  });

  it('is capped, and never overflows at large attempt counts', () => {
    expect(backoffDelay(20, 100, 10_000, () => 1)).toBe(10_000);
    expect(backoffDelay(10_000, 100, 10_000, () => 0.5)).toBe(7_500);
  });

  it('jitters: slots crashing together do not restart in lockstep', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(3, 100, 10_000)));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(400);
      expect(d).toBeLessThanOrEqual(800);
    }
  });

  it('a base of 0 restarts at once', () => {
    expect(backoffDelay(5, 0, 10_000)).toBe(0);
  });
});

describe('BootBreaker', () => {
  it('trips at the limit within the window', () => {
    const b = new BootBreaker(3, 1_000);
    expect(b.record(0)).toBe(false);
    expect(b.record(100)).toBe(false);
    expect(b.record(200)).toBe(true);
    expect(b.count).toBe(3);
  });

  it('forgets failures older than the window', () => {
    const b = new BootBreaker(3, 1_000);
    b.record(0);
    b.record(100);
    expect(b.record(1_500)).toBe(false);
    expect(b.count).toBe(1);
  });

  it('resets when a worker becomes ready', () => {
    const b = new BootBreaker(2, 1_000);
    b.record(0);
    b.reset();
    expect(b.record(10)).toBe(false);
  });
});
