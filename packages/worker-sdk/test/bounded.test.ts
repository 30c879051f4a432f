import { describe, expect, it } from 'vitest';

import { runBounded } from '../src/drain/bounded.js';
import { DrainEngine } from '../src/drain/engine.js';

describe('runBounded', () => {
  it('true when the hook completes, sync or async', async () => {
    expect(await runBounded(() => {}, 100)).toBe(true);
    expect(await runBounded(() => new Promise((r) => setTimeout(r, 10)), 1_000)).toBe(true);
  });

  it('false, never a throw, when the hook throws or rejects', async () => {
    expect(
      await runBounded(() => {
        throw new Error('boom');
      }, 100),
    ).toBe(false);
    expect(await runBounded(() => Promise.reject(new Error('boom')), 100)).toBe(false);
  });

  it('false at the bound when the hook hangs', async () => {
    const t0 = Date.now();
    expect(await runBounded(() => new Promise(() => {}), 50)).toBe(false);
    expect(Date.now() - t0).toBeLessThan(1_000);
  });
});

describe('DrainEngine hooks (no connections)', () => {
  it('runs drain hooks, then shutdown hooks in order, each bounded; failures are counted, not thrown', async () => {
    const engine = new DrainEngine();
    const order: string[] = [];
    engine.onDrain(() => {
      order.push('drain');
    });
    engine.onShutdown(() => {
      order.push('first');
    }, 100);
    engine.onShutdown(() => new Promise(() => order.push('hangs')), 50);
    engine.onShutdown(() => {
      order.push('throws');
      throw new Error('boom');
    }, 100);
    engine.onShutdown(async () => {
      order.push('last');
    }, 100);
    const stats = await engine.drain({ deadlineMs: 1_000 });
    expect(order).toEqual(['drain', 'first', 'hangs', 'throws', 'last']);
    expect(stats).toMatchObject({ hookFailures: 2, forced: 0, timedOut: false, finished: 0 });
    expect(engine.draining).toBe(true);
  });

  it('drain() runs once: a second call returns the same result', async () => {
    const engine = new DrainEngine();
    let runs = 0;
    engine.onShutdown(() => {
      runs++;
    }, 100);
    const [a, b] = await Promise.all([engine.drain({ deadlineMs: 100 }), engine.drain({ deadlineMs: 100 })]);
    expect(a).toEqual(b);
    expect(runs).toBe(1);
  });
});
