import { describe, expect, it } from 'vitest';

import { shedOrders, unevenUpgraded } from '../../src/accept/balance.js';

describe('shedOrders (--accept shared keep-alive balance)', () => {
  it('moves the surplus of a worker more than 20 % above the mean', () => {
    // 50 connections over 4 workers, one holding 30: the mean is 12.5, the band 10 to 15.
    expect(shedOrders([30, 10, 6, 4])).toEqual([18, 0, 0, 0]);
    expect(shedOrders([15, 13, 12, 10])).toEqual([0, 0, 0, 0]);
    expect(shedOrders([16, 12, 12, 10])).toEqual([4, 0, 0, 0]);
    expect(shedOrders([20, 20, 5, 5])).toEqual([8, 8, 0, 0]);
  });

  it('fills a worker more than 20 % below the mean from the one holding the most', () => {
    // None above 15, but 9 is below 10: the 15 moves 3.
    expect(shedOrders([15, 14, 12, 9])).toEqual([3, 0, 0, 0]);
    expect(shedOrders([14, 15, 12, 9])).toEqual([0, 3, 0, 0]);
    // Within the tolerance both ways: nothing moves.
    expect(shedOrders([15, 15, 10, 10])).toEqual([0, 0, 0, 0]);
    // A surplus of less than 1 is not worth a move even then: it would only move the imbalance.
    expect(shedOrders([4, 4, 4, 2])).toEqual([0, 0, 0, 0]);
  });

  it("balances a handful too (a proxy's small upstream pool), without bouncing a lone connection", () => {
    expect(shedOrders([4, 0, 0, 0])).toEqual([3, 0, 0, 0]);
    expect(shedOrders([2, 1, 1, 0])).toEqual([1, 0, 0, 0]);
    expect(shedOrders([2, 0])).toEqual([1, 0]);
    expect(shedOrders([1, 1, 1, 1])).toEqual([0, 0, 0, 0]);
    // One connection, or one too many for an even split: moving it would only move the imbalance.
    expect(shedOrders([1, 0])).toEqual([0, 0]);
    expect(shedOrders([2, 1])).toEqual([0, 0]);
    expect(shedOrders([1, 1, 0, 0])).toEqual([0, 0, 0, 0]);
  });

  it('leaves a single worker alone', () => {
    expect(shedOrders([40])).toEqual([0]);
    expect(shedOrders([])).toEqual([]);
  });

  it('calls WebSockets uneven when a worker is 50 % off a mean of at least 5', () => {
    expect(unevenUpgraded([118, 28, 28, 26])).toBe(true);
    expect(unevenUpgraded([69, 66, 59, 6])).toBe(true);
    expect(unevenUpgraded([58, 52, 45, 45])).toBe(false);
    expect(unevenUpgraded([40, 0, 0, 0])).toBe(true);
    // Too few to matter, or a single worker.
    expect(unevenUpgraded([12, 0, 0, 0])).toBe(false);
    expect(unevenUpgraded([100])).toBe(false);
  });
});
