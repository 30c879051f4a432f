import { describe, expect, it } from 'vitest';

import { isoTime } from '../../src/observe/iso-time.js';

describe('isoTime', () => {
  it('writes what toISOString writes, at the edges of days, months, leap years and centuries', () => {
    const edges = [
      0,
      1,
      999,
      Date.UTC(1970, 0, 1, 23, 59, 59, 999),
      Date.UTC(2000, 1, 28, 23, 59, 59, 999),
      Date.UTC(2000, 1, 29, 12, 0, 0, 5),
      Date.UTC(2000, 2, 1),
      Date.UTC(2024, 11, 31, 23, 59, 59, 999),
      Date.UTC(2025, 0, 1),
      Date.UTC(2100, 1, 28, 23, 59, 59, 999),
      Date.UTC(2100, 2, 1),
      Date.UTC(1969, 11, 31, 23, 59, 59, 999),
      Date.UTC(1900, 1, 28, 10, 10, 10, 10),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      Date.now(),
    ];
    for (const ms of edges) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  it('agrees with toISOString on 100,000 instants between 1900 and 2200, in and out of order', () => {
    let seed = 42;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const from = Date.UTC(1900, 0, 1);
    const span = Date.UTC(2200, 0, 1) - from;
    const wrong: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const ms = from + Math.floor(next() * span);
      const ours = isoTime(ms);
      if (ours !== new Date(ms).toISOString()) wrong.push(`${ms}: ${ours}`);
    }
    expect(wrong).toEqual([]);
  });
});
