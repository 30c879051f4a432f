import { describe, expect, it } from 'vitest';

import {
  cancelRestart,
  emptySlot,
  finishFilling,
  newSlot,
  restartIn,
  serve,
  slotState,
  startFilling,
  vacate,
} from '../../src/master/slot.js';
import type { WorkerProcess } from '../../src/worker/worker-process.js';

const worker = (pid: number) => ({ pid }) as unknown as WorkerProcess;

describe('slot transitions', () => {
  it('empty -> starting -> serving, and a replacement takes over', () => {
    const slot = newSlot(0);
    expect(slotState(slot)).toBe('empty');
    const a = worker(1);
    startFilling(slot, a);
    expect(slotState(slot)).toBe('starting');
    expect(finishFilling(slot, a, true)).toBe('serving');
    expect(slotState(slot)).toBe('serving');
    const b = worker(2);
    serve(slot, b);
    expect(slot.current).toBe(b);
    expect(vacate(slot, a)).toBe(false);
    expect(vacate(slot, b)).toBe(true);
    expect(slotState(slot)).toBe('empty');
  });

  it('a filling worker that a rollout overtook is surplus; a failed one leaves the slot empty', () => {
    const slot = newSlot(1);
    const late = worker(3);
    startFilling(slot, late);
    serve(slot, worker(4));
    expect(finishFilling(slot, late, true)).toBe('surplus');
    expect(slot.current?.pid).toBe(4);
    const other = newSlot(2);
    const bad = worker(5);
    startFilling(other, bad);
    expect(finishFilling(other, bad, false)).toBe('failed');
    expect(slotState(other)).toBe('empty');
  });

  it('one restart due at a time; starting, emptying or cancelling clears it', async () => {
    const slot = newSlot(3);
    let fired = 0;
    restartIn(slot, 5, () => fired++);
    expect(slotState(slot)).toBe('restart-due');
    startFilling(slot, worker(6));
    await new Promise((r) => setTimeout(r, 20));
    expect(fired).toBe(0);
    expect(emptySlot(slot).map((w) => w.pid)).toEqual([6]);
    restartIn(slot, 5, () => fired++);
    cancelRestart(slot);
    await new Promise((r) => setTimeout(r, 20));
    expect(fired).toBe(0);
    restartIn(slot, 5, () => fired++);
    await new Promise((r) => setTimeout(r, 20));
    expect(fired).toBe(1);
    expect(slotState(slot)).toBe('empty');
  });
});
