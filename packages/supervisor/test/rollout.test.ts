import { describe, expect, it } from 'vitest';

import { type RolloutHost, RolloutQueue, runRollout } from '../src/rollout.js';

interface FakeWorker {
  id: string;
  slot: number;
  state: 'starting' | 'ready' | 'retired' | 'killed';
}

/** An in-memory host: workers become ready (or fail) when the test says, and every step is recorded. */
function fakeHost(slots: number, behaviour: (w: FakeWorker) => Promise<void> = async () => {}) {
  const current = new Map<number, FakeWorker>();
  for (let i = 0; i < slots; i++) current.set(i, { id: `old${i}`, slot: i, state: 'ready' });
  const log: string[] = [];
  let alive = slots;
  let maxAlive = slots;
  let aborted = false;
  let n = 0;
  const host: RolloutHost<FakeWorker> = {
    slots: () => [...current.keys()],
    current: (slot) => current.get(slot) ?? null,
    start: (slot) => {
      const w: FakeWorker = { id: `new${n++}`, slot, state: 'starting' };
      alive++;
      maxAlive = Math.max(maxAlive, alive);
      log.push(`start ${w.id}@${slot}`);
      return w;
    },
    waitReady: async (w) => {
      await behaviour(w);
      w.state = 'ready';
    },
    promote: (slot, w) => {
      current.set(slot, w);
      log.push(`promote ${w.id}@${slot}`);
    },
    retire: async (w) => {
      log.push(`retire ${w.id}`);
      w.state = 'retired';
      await new Promise((r) => setTimeout(r, 1));
      alive--;
    },
    discard: async (w) => {
      log.push(`discard ${w.id}`);
      w.state = 'killed';
      alive--;
    },
    aborted: () => aborted,
  };
  return { host, current, log, abort: () => (aborted = true), maxAlive: () => maxAlive };
}

describe('runRollout', () => {
  it('replaces one slot at a time: start, ready, promote, retire the old one', async () => {
    const { host, log, maxAlive } = fakeHost(3);
    const r = await runRollout(host, { generation: 2, surge: 1 });
    expect(r.outcome).toBe('done');
    expect(r.replaced).toBe(3);
    expect(log).toEqual([
      'start new0@0', 'promote new0@0', 'retire old0',
      'start new1@1', 'promote new1@1', 'retire old1',
      'start new2@2', 'promote new2@2', 'retire old2',
    ]);
    expect(maxAlive()).toBe(4);
  });

  it('with surge 2 never runs more than N + 2 workers', async () => {
    const { host, maxAlive } = fakeHost(5);
    const r = await runRollout(host, { generation: 2, surge: 2 });
    expect(r.replaced).toBe(5);
    expect(maxAlive()).toBe(7);
  });

  it('rolls back when a new worker fails: it is discarded and the slots not yet replaced keep their workers', async () => {
    const { host, current, log } = fakeHost(3, async (w) => {
      if (w.id === 'new1') throw new Error('boom at boot');
    });
    const r = await runRollout(host, { generation: 2, surge: 1 });
    expect(r.outcome).toBe('rolled-back');
    expect(r.replaced).toBe(1);
    expect(r.failure?.slot).toBe(1);
    expect(String(r.failure?.error)).toMatch(/boom at boot/);
    expect(log).toContain('discard new1');
    expect(current.get(0)?.id).toBe('new0');
    expect(current.get(1)?.id).toBe('old1');
    expect(current.get(2)?.id).toBe('old2');
    expect(current.get(1)?.state).toBe('ready');
  });

  it('stops at the next step once aborted (a stop began)', async () => {
    const f = fakeHost(3, async (w) => {
      if (w.id === 'new0') f.abort();
    });
    const r = await runRollout(f.host, { generation: 2, surge: 1 });
    expect(r.outcome).toBe('aborted');
    expect(r.replaced).toBe(0);
    expect(f.log).toEqual(['start new0@0', 'discard new0']);
  });
});

describe('RolloutQueue', () => {
  it('merges every request made during a rollout into exactly one follow-up', async () => {
    let runs = 0;
    let release: () => void = () => {};
    const q = new RolloutQueue(async () => {
      const n = ++runs;
      await new Promise<void>((r) => (release = r));
      return n;
    });
    const first = q.request();
    const followUps = Array.from({ length: 10 }, () => q.request());
    expect(q.busy).toBe(true);
    expect(q.queued).toBe(true);
    release();
    expect(await first).toBe(1);
    await new Promise((r) => setTimeout(r, 0));
    release();
    const results = await Promise.all(followUps);
    expect(new Set(results)).toEqual(new Set([2]));
    expect(runs).toBe(2);
    await q.idle();
    expect(q.busy).toBe(false);
  });

  it('runs a new rollout for a request made after the previous one ended', async () => {
    let runs = 0;
    const q = new RolloutQueue(async () => ++runs);
    expect(await q.request()).toBe(1);
    expect(await q.request()).toBe(2);
  });
});
