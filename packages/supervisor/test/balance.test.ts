import { describe, expect, it } from 'vitest';

import { shedOrders } from '../src/accept/balance.js';

describe('shedOrders (--accept shared keep-alive balance)', () => {
  it('moves the surplus of a worker more than 25 % above the mean', () => {
    // 50 connections over 4 workers, one holding 30: the mean is 12.5.
    expect(shedOrders([30, 10, 6, 4])).toEqual([18, 0, 0, 0]);
    expect(shedOrders([15, 13, 12, 10])).toEqual([0, 0, 0, 0]);
    expect(shedOrders([16, 12, 12, 10])).toEqual([4, 0, 0, 0]);
    expect(shedOrders([20, 20, 5, 5])).toEqual([8, 8, 0, 0]);
  });

  it('leaves a handful alone, and a single worker', () => {
    expect(shedOrders([3, 1, 1, 1])).toEqual([0, 0, 0, 0]);
    expect(shedOrders([40])).toEqual([0]);
    expect(shedOrders([])).toEqual([]);
  });
});
