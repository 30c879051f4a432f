import { describe, expect, it } from 'vitest';

import { DRAIN_KIND_NAMES, DRAIN_KINDS, zeroCounts } from '../src/drain-kinds.js';
import { countClosed, emptyStats } from '../src/drain/stats.js';
import type { Connection } from '../src/drain/connections.js';

describe('the drain kinds table', () => {
  it('a drain starts with a zero count for every kind of the table, in its order', () => {
    expect(Object.keys(emptyStats().forcedKinds)).toEqual(DRAIN_KIND_NAMES);
    expect(Object.values(zeroCounts()).every((n) => n === 0)).toBe(true);
  });

  it('a close during the drain counts as long-lived for the kinds whose row says so', () => {
    for (const kind of ['http', 'http2', 'raw'] as const) {
      const stats = emptyStats();
      countClosed(stats, { kind, cause: null, upgraded: false } as Connection, false);
      expect(stats.closedLongLived).toBe(DRAIN_KINDS[kind].longLived ? 1 : 0);
      expect(stats.finished).toBe(DRAIN_KINDS[kind].longLived ? 0 : 1);
    }
  });
});
