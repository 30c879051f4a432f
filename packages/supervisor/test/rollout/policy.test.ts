import { describe, expect, it } from 'vitest';

import { DrainSet, type RolloutHost, RolloutQueue, runRollout } from '../../src/rollout/policy.js';

interface FakeWorker {
  id: string;
  slot: number;
  state: 'starting' | 'ready' | 'retired' | 'killed' | 'died';
}

/**
 * An in-memory host: workers become ready (or fail) when the test says, and every step is recorded. A retired
 * worker drains until `drainFor` resolves (by default a moment); serving and draining workers are counted apart.
 */
function fakeHost(
  slots: number,
  behaviour: (w: FakeWorker) => Promise<void> = async () => {},
  drainFor: (w: FakeWorker) => Promise<void> = () => new Promise((r) => setTimeout(r, 1)),
  spawnFails: (slot: number) => boolean = () => false,
) {
  const current = new Map<number, FakeWorker>();
  for (let i = 0; i < slots; i++) current.set(i, { id: `old${i}`, slot: i, state: 'ready' });
  const log: string[] = [];
  let alive = slots;
  let maxAlive = slots;
  let serving = slots;
  let maxServing = slots;
  let draining = 0;
  let maxDraining = 0;
  let aborted = false;
  let n = 0;
  const host: RolloutHost<FakeWorker> = {
    slots: () => [...current.keys()],
    current: (slot) => current.get(slot) ?? null,
    start: (slot) => {
      if (spawnFails(slot)) throw new Error(`cannot start worker for slot ${slot}`);
      const w: FakeWorker = { id: `new${n++}`, slot, state: 'starting' };
      alive++;
      maxAlive = Math.max(maxAlive, alive);
      serving++;
      maxServing = Math.max(maxServing, serving);
      log.push(`start ${w.id}@${slot}`);
      return w;
    },
    waitReady: async (w) => {
      await behaviour(w);
      if (w.state === 'starting') w.state = 'ready';
    },
    lost: (w) => (w.state === 'died' ? new Error(`${w.id} died after it was ready`) : null),
    promote: (slot, w) => {
      current.set(slot, w);
      log.push(`promote ${w.id}@${slot}`);
    },
    retire: async (w) => {
      log.push(`retire ${w.id}`);
      w.state = 'retired';
      serving--;
      draining++;
      maxDraining = Math.max(maxDraining, draining);
      await drainFor(w);
      draining--;
      alive--;
      log.push(`exited ${w.id}`);
    },
    discard: async (w) => {
      log.push(`discard ${w.id}`);
      w.state = 'killed';
      serving--;
      alive--;
    },
    aborted: () => aborted,
  };
  return {
    host,
    current,
    log,
    abort: () => (aborted = true),
    maxAlive: () => maxAlive,
    maxServing: () => maxServing,
    maxDraining: () => maxDraining,
  };
}

const opts = (surge: number, maxDraining = 1024) => ({ generation: 2, surge, maxDraining, drains: new DrainSet() });

describe('runRollout', () => {
  it('replaces one slot at a time: start, ready, promote, retire the old one', async () => {
    const { host, log, maxServing } = fakeHost(3, undefined, () => new Promise(() => {}));
    const r = await runRollout(host, opts(1));
    expect(r.outcome).toBe('done');
    expect(r.replaced).toBe(3);
    // The next batch starts once the old worker began to drain, not once it exited.
    expect(log).toEqual([
      'start new0@0',
      'promote new0@0',
      'retire old0',
      'start new1@1',
      'promote new1@1',
      'retire old1',
      'start new2@2',
      'promote new2@2',
      'retire old2',
    ]);
    expect(r.draining).toBe(3);
    expect(maxServing()).toBe(4);
  });

  it('with surge 2 never runs more than N + 2 serving workers; draining ones do not count against the surge', async () => {
    const { host, maxServing, maxAlive } = fakeHost(5, undefined, () => new Promise((r) => setTimeout(r, 50)));
    const r = await runRollout(host, opts(2));
    expect(r.replaced).toBe(5);
    expect(maxServing()).toBe(7);
    expect(maxAlive()).toBeGreaterThan(7);
  });

  it('--max-draining: at the bound, the next batch waits until a drain ends', async () => {
    const releases: (() => void)[] = [];
    const f = fakeHost(3, undefined, () => new Promise<void>((r) => releases.push(r)));
    const drains = new DrainSet();
    const done = runRollout(f.host, { generation: 2, surge: 1, maxDraining: 2, drains });
    await new Promise((r) => setTimeout(r, 20));
    expect(f.log).toEqual([
      'start new0@0',
      'promote new0@0',
      'retire old0',
      'start new1@1',
      'promote new1@1',
      'retire old1',
    ]);
    expect(drains.count).toBe(2);
    releases[0]!();
    const r = await done;
    expect(f.log.slice(6)).toEqual(['exited old0', 'start new2@2', 'promote new2@2', 'retire old2']);
    expect(f.maxDraining()).toBe(2);
    expect(r.draining).toBe(2);
    for (const release of releases.slice(1)) release();
    await drains.idle();
    expect(drains.count).toBe(0);
  });

  it('a batch never retires more old workers than the draining bound allows (surge above it)', async () => {
    const f = fakeHost(4, undefined, () => new Promise((r) => setTimeout(r, 5)));
    const r = await runRollout(f.host, opts(3, 1));
    expect(r.replaced).toBe(4);
    expect(f.maxDraining()).toBe(1);
  });

  it('rolls back when a new worker fails: it is discarded and the slots not yet replaced keep their workers', async () => {
    const { host, current, log } = fakeHost(3, async (w) => {
      if (w.id === 'new1') throw new Error('boom at boot');
    });
    const r = await runRollout(host, opts(1));
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

  it('rolls back when a replacement cannot be started: nothing to discard, the slot keeps its worker', async () => {
    const { host, current, log } = fakeHost(2, undefined, undefined, (slot) => slot === 1);
    const r = await runRollout(host, opts(1));
    expect(r.outcome).toBe('rolled-back');
    expect(r.replaced).toBe(1);
    expect(r.failure).toMatchObject({ slot: 1, worker: null });
    expect(String(r.failure?.error)).toMatch(/cannot start worker for slot 1/);
    expect(log).toEqual(['start new0@0', 'promote new0@0', 'retire old0']);
    expect(current.get(1)?.id).toBe('old1');
  });

  it('surge 2: a replacement that was ready and died while its batch booted is not promoted', async () => {
    let releaseSecond: () => void = () => {};
    const second = new Promise<void>((r) => (releaseSecond = r));
    const { host, current, log } = fakeHost(2, async (w) => {
      if (w.id === 'new0') {
        // Ready, then it dies before new1 is ready.
        w.state = 'ready';
        setTimeout(() => {
          w.state = 'died';
          releaseSecond();
        }, 1);
        return;
      }
      await second;
    });
    const r = await runRollout(host, opts(2));
    expect(r.outcome).toBe('rolled-back');
    expect(r.failure).toMatchObject({ slot: 0 });
    expect(String(r.failure?.error)).toMatch(/new0 died after it was ready/);
    expect(log).toContain('discard new0');
    expect(log).not.toContain('promote new0@0');
    expect(current.get(0)?.id).toBe('old0');
    // The other one of the batch was fine: it serves.
    expect(current.get(1)?.id).toBe('new1');
    expect(r.replaced).toBe(1);
  });

  it('stops at the next step once aborted (a stop began)', async () => {
    const f = fakeHost(3, async (w) => {
      if (w.id === 'new0') f.abort();
    });
    const r = await runRollout(f.host, opts(1));
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

describe('runRollout with a canary', () => {
  it('bakes the canary beside every old worker, then promotes it and rolls the rest', async () => {
    const { host, log, maxServing } = fakeHost(3, undefined, () => new Promise(() => {}));
    const baked: string[][] = [];
    host.bake = async (ws) => {
      baked.push(ws.map((w) => `${w.id}:${w.state}`));
      log.push('bake');
      return { failure: null, report: 'pass' };
    };
    const r = await runRollout(host, { ...opts(1), canary: 1 });
    expect(r).toMatchObject({ outcome: 'done', replaced: 3, canary: 'pass' });
    expect(baked).toEqual([['new0:ready']]);
    expect(log.slice(0, 4)).toEqual(['start new0@0', 'bake', 'promote new0@0', 'retire old0']);
    expect(maxServing()).toBe(4);
  });

  it('rolls back a canary the bake fails: it drains, and no old worker is touched', async () => {
    const { host, log, current } = fakeHost(3);
    host.bake = async () => ({ failure: new Error('canary failed on errors'), report: 'fail' });
    const r = await runRollout(host, { ...opts(1), canary: 2 });
    expect(r).toMatchObject({ outcome: 'rolled-back', replaced: 0, canary: 'fail' });
    expect(String(r.failure?.error)).toBe('Error: canary failed on errors');
    expect(log).toEqual(['start new0@0', 'start new1@1', 'retire new0', 'retire new1']);
    expect([...current.values()].map((w) => `${w.id}:${w.state}`)).toEqual(['old0:ready', 'old1:ready', 'old2:ready']);
  });

  it('discards a canary that never became ready, without a bake', async () => {
    const { host, log } = fakeHost(2, async (w) => {
      w.state = 'died';
      throw new Error('boom at boot');
    });
    let baked = false;
    host.bake = async () => {
      baked = true;
      return { failure: null, report: null };
    };
    const r = await runRollout(host, { ...opts(1), canary: 1 });
    expect(r.outcome).toBe('rolled-back');
    expect(baked).toBe(false);
    expect(log).toEqual(['start new0@0', 'discard new0']);
  });
});
