import { describe, expect, it } from 'vitest';

import { jittered, recycleVerdict } from '../../src/restart/recycle.js';

describe('recycling', () => {
  const limits = { maxMemoryBytes: 100 * 1024 * 1024, maxRequests: 1_000, maxAgeMs: 60_000 };
  const jitter = { requests: 1_050, ageMs: 63_000 };

  it('jitter adds up to 10%, never less than the limit', () => {
    expect(jittered(1_000, () => 0)).toBe(1_000);
    expect(jittered(1_000, () => 0.999)).toBe(1_099);
  });

  it('names the limit passed: memory first, then requests, then age', () => {
    const w = { requests: 2_000, readyAt: 0 };
    expect(recycleVerdict(w, limits, 200 * 1024 * 1024, 100_000, jitter)).toEqual({
      reason: 'max-memory',
      value: 200,
      limit: 100,
    });
    expect(recycleVerdict(w, limits, 10 * 1024 * 1024, 100_000, jitter)).toEqual({
      reason: 'max-requests',
      value: 2_000,
      limit: 1_050,
    });
    expect(recycleVerdict({ requests: 0, readyAt: 0 }, limits, null, 63_000, jitter)).toEqual({
      reason: 'max-age',
      value: 63_000,
      limit: 63_000,
    });
  });

  it('leaves a worker under every limit alone, and ignores limits that are off', () => {
    expect(recycleVerdict({ requests: 1_049, readyAt: 0 }, limits, 50 * 1024 * 1024, 62_999, jitter)).toBeNull();
    const off = { maxMemoryBytes: 0, maxRequests: 0, maxAgeMs: 0 };
    expect(recycleVerdict({ requests: 1e9, readyAt: 0 }, off, 1e12, 1e12, { requests: 0, ageMs: 0 })).toBeNull();
  });
});
