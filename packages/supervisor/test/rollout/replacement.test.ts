import { describe, expect, it } from 'vitest';

import { newSlot, type Slot } from '../../src/master/slot.js';
import { DrainSet } from '../../src/rollout/policy.js';
import { type ReplacementHost, Replacer } from '../../src/rollout/replacement.js';
import type { WorkerProcess } from '../../src/worker/worker-process.js';

/** A worker whose readiness and exit the test decides; it records how it was made to leave. */
function fakeWorker(pid: number) {
  let ready!: () => void;
  let fail!: (err: Error) => void;
  let exit!: () => void;
  const readyP = new Promise<void>((res, rej) => {
    ready = res;
    fail = rej;
  });
  const exited = new Promise<void>((res) => {
    exit = res;
  });
  const left: string[] = [];
  const w = {
    pid,
    lastLines: [] as string[],
    waitReady: () => readyP,
    lostSinceReady: () => null,
    drain: (reason: string) => {
      left.push(`drain:${reason}`);
      return exited;
    },
    kill: () => {
      left.push('kill');
      exit();
      return exited;
    },
  };
  return { w: w as unknown as WorkerProcess, ready, fail, exit, left };
}

function fakeHost(slotCount: number) {
  const slots: Slot[] = Array.from({ length: slotCount }, (_, i) => newSlot(i));
  const forked: ReturnType<typeof fakeWorker>[] = [];
  const logs: string[] = [];
  const restarts: number[] = [];
  let running = true;
  let rolloutBusy = false;
  let rolloutDone!: () => void;
  let rolloutIdle = Promise.resolve();
  const logger = {
    warn: (_o: unknown, msg: string) => logs.push(`warn ${msg}`),
    error: (_o: unknown, msg: string) => logs.push(`error ${msg}`),
  };
  const host: ReplacementHost = {
    fork: async () => {
      const f = fakeWorker(1000 + forked.length);
      forked.push(f);
      return f.w;
    },
    readyTimeoutMs: () => 1_000,
    running: () => running,
    drains: new DrainSet(),
    maxDraining: () => 1,
    log: () => logger as unknown as ReturnType<ReplacementHost['log']>,
    restartLater: (slot) => restarts.push(slot.index),
    slots: () => slots,
    rolloutBusy: () => rolloutBusy,
    rolloutIdle: () => rolloutIdle,
  };
  return {
    host,
    slots,
    forked,
    logs,
    restarts,
    stop: () => {
      running = false;
    },
    startRollout: () => {
      rolloutBusy = true;
      rolloutIdle = new Promise((r) => {
        rolloutDone = () => {
          rolloutBusy = false;
          r();
        };
      });
    },
    endRollout: () => rolloutDone(),
  };
}

/** Lets the replacement's awaits run until it waits on something the test controls. */
const settle = () => new Promise((r) => setImmediate(r));

describe('Replacer', () => {
  it('a new worker first; once it is ready it serves the slot and the old one drains', async () => {
    const t = fakeHost(1);
    const old = fakeWorker(1);
    t.slots[0]!.current = old.w;
    const done = new Replacer(t.host).replace(old.w, 'memory limit', false);
    await settle();
    expect(t.forked).toHaveLength(1);
    expect(t.slots[0]!.current).toBe(old.w);
    expect(old.left).toEqual([]);
    t.forked[0]!.ready();
    expect(await done).toBe(true);
    expect(t.slots[0]!.current).toBe(t.forked[0]!.w);
    expect(old.left).toEqual(['drain:recycle']);
    expect(t.host.drains.count).toBe(1);
  });

  it('a replacement that fails its boot is killed and the old worker keeps serving', async () => {
    const t = fakeHost(1);
    const old = fakeWorker(1);
    t.slots[0]!.current = old.w;
    const done = new Replacer(t.host).replace(old.w, 'memory limit', false);
    await settle();
    t.forked[0]!.fail(new Error('worker 1000 exited with code 1 before it was ready'));
    expect(await done).toBe(false);
    expect(t.forked[0]!.left).toEqual(['kill']);
    expect(t.slots[0]!.current).toBe(old.w);
    expect(old.left).toEqual([]);
    expect(t.logs.at(-1)).toMatch(/replacement of worker 1 failed: .*; it keeps serving$/);
  });

  it('a hung worker goes even when its replacement fails: killed, and the slot refills through the crash path', async () => {
    const t = fakeHost(1);
    const hung = fakeWorker(1);
    t.slots[0]!.current = hung.w;
    const done = new Replacer(t.host).replace(hung.w, 'no heartbeat', true);
    await settle();
    t.forked[0]!.fail(new Error('not ready'));
    expect(await done).toBe(false);
    expect(hung.left).toEqual(['kill']);
    expect(t.slots[0]!.current).toBeNull();
    expect(t.restarts).toEqual([0]);
  });

  it('waits for a running rollout, and does nothing when the rollout replaced the worker meanwhile', async () => {
    const t = fakeHost(1);
    const old = fakeWorker(1);
    t.slots[0]!.current = old.w;
    t.startRollout();
    const done = new Replacer(t.host).replace(old.w, 'memory limit', false);
    await settle();
    expect(t.forked).toHaveLength(0);
    const rolledIn = fakeWorker(2);
    t.slots[0]!.current = rolledIn.w;
    t.endRollout();
    expect(await done).toBe(false);
    expect(t.forked).toHaveLength(0);
  });

  it('one replacement at a time: the second starts its worker only after the first is done', async () => {
    const t = fakeHost(2);
    const a = fakeWorker(1);
    const b = fakeWorker(2);
    t.slots[0]!.current = a.w;
    t.slots[1]!.current = b.w;
    const replacer = new Replacer(t.host);
    const first = replacer.replace(a.w, 'memory limit', true);
    const second = replacer.replace(b.w, 'memory limit', true);
    await settle();
    expect(t.forked).toHaveLength(1);
    t.forked[0]!.ready();
    expect(await first).toBe(true);
    await settle();
    expect(t.forked).toHaveLength(2);
    t.forked[1]!.ready();
    expect(await second).toBe(true);
    expect(t.slots.map((s) => s.current)).toEqual([t.forked[0]!.w, t.forked[1]!.w]);
  });

  it('a master that stops while the new worker boots drains it instead of promoting it', async () => {
    const t = fakeHost(1);
    const old = fakeWorker(1);
    t.slots[0]!.current = old.w;
    const done = new Replacer(t.host).replace(old.w, 'memory limit', false);
    await settle();
    t.stop();
    t.forked[0]!.ready();
    await settle();
    t.forked[0]!.exit();
    expect(await done).toBe(false);
    expect(t.forked[0]!.left).toEqual(['drain:scale']);
    expect(t.slots[0]!.current).toBe(old.w);
  });
});
