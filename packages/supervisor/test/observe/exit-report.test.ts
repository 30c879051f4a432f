import { DRAIN_KIND_NAMES, type DrainKindCounts } from '@supervise/worker-sdk/protocol';
import { describe, expect, it } from 'vitest';

import { describeForced } from '../../src/observe/exit-report.js';

const counts = (set: Partial<DrainKindCounts>): DrainKindCounts =>
  Object.fromEntries(DRAIN_KIND_NAMES.map((k) => [k, set[k] ?? 0])) as DrainKindCounts;

describe('describeForced (the exit report of a drain that forced connections)', () => {
  it('names each forced kind by its label, in the table order, without a hint when the engine closes them', () => {
    expect(describeForced(counts({ http2: 2, http: 1 }))).toBe(', forced at the deadline: 1 http, 2 http2');
  });

  it('a kind only the app can close (an upgraded socket, a raw protocol) adds the hint to close it in onDrain', () => {
    expect(describeForced(counts({ upgraded: 1 }))).toBe(
      ', forced at the deadline: 1 upgraded (not WebSocket); close raw protocol connections in an onDrain hook (worker SDK)',
    );
    expect(describeForced(counts({ raw: 3 }))).toMatch(/3 raw; close raw protocol connections in an onDrain hook/);
  });
});
