import type { Logger } from '../observe/logger.js';
import type { RolloutHost } from '../rollout/policy.js';
import type { WorkerInfo } from './supervisor-types.js';
import type { WorkerProcess } from '../worker/worker-process.js';

/**
 * One place in the pool of workers: who serves it, who is starting for it, and its restart history. Its state
 * is one of SlotState, read from these fields; only the transitions below write them:
 *
 *   empty        --startFilling-->  starting        (first start, scale-up, crash restart, self-drain)
 *   starting     --finishFilling--> serving | empty (ready: it serves; failed: empty, and a restart may be due)
 *   empty        --restartIn------> restart-due     (backoff after a crash, a failed boot, or a process
 *                                                   that could not be started: the slot never had it)
 *   restart-due  --startFilling-->  starting        (the timer fired)
 *   serving      --serve---------->  serving        (a rollout or a replacement promotes its new worker)
 *   serving      --vacate--------->  empty          (its worker exited, or began to drain by itself)
 *   any          --emptySlot------>  empty          (a stop or a scale-down: no restart)
 */
export interface Slot {
  index: number;
  current: WorkerProcess | null;
  /** A worker starting to fill the slot outside a rollout (first start, crash restart, scale up). */
  filling: WorkerProcess | null;
  attempt: number;
  restarts: number;
  restartTimer: NodeJS.Timeout | null;
  /** Where its last serving worker listened: what the next one must listen on to be ready (readiness.ts). */
  listening: string[];
}

export type SlotState = 'empty' | 'starting' | 'restart-due' | 'serving';

export function slotState(slot: Slot): SlotState {
  if (slot.current) return 'serving';
  if (slot.filling) return 'starting';
  return slot.restartTimer ? 'restart-due' : 'empty';
}

export function newSlot(index: number): Slot {
  return { index, current: null, filling: null, attempt: 0, restarts: 0, restartTimer: null, listening: [] };
}

/** A worker starts for the slot (the restart that was due, if any, is the one happening). */
export function startFilling(slot: Slot, w: WorkerProcess): void {
  cancelRestart(slot);
  slot.filling = w;
}

/** The filling worker is ready (it serves, unless a rollout filled the slot meanwhile) or failed. */
export function finishFilling(slot: Slot, w: WorkerProcess, ready: boolean): 'serving' | 'surplus' | 'failed' {
  if (slot.filling === w) slot.filling = null;
  if (!ready) return 'failed';
  if (slot.current && slot.current !== w) return 'surplus';
  slot.current = w;
  return 'serving';
}

/** A new worker takes the slot (a rollout's promotion, a replacement). */
export function serve(slot: Slot, w: WorkerProcess): void {
  slot.current = w;
}

/** The slot's worker is no longer it (it exited, or drains by itself); false when `w` was not serving it. */
export function vacate(slot: Slot, w: WorkerProcess): boolean {
  if (slot.current !== w) return false;
  slot.current = null;
  return true;
}

/** A restart after `delayMs` (the backoff): at most one is due at a time. */
export function restartIn(slot: Slot, delayMs: number, fill: () => void): void {
  slot.restartTimer = setTimeout(() => {
    slot.restartTimer = null;
    fill();
  }, delayMs);
}

/** A crash restart that was due is no longer wanted (a stop, a scale-down, a rollout's own worker). */
export function cancelRestart(slot: Slot): void {
  if (slot.restartTimer) clearTimeout(slot.restartTimer);
  slot.restartTimer = null;
}

/** Takes a slot out of service: no restart, and the workers it had (serving or starting) for the caller to end. */
export function emptySlot(slot: Slot): WorkerProcess[] {
  cancelRestart(slot);
  const workers = [slot.current, slot.filling].filter((w): w is WorkerProcess => w !== null);
  slot.current = slot.filling = null;
  return workers;
}

/**
 * Changes the number of slots in place: new ones are filled (their workers ready before they count), the
 * highest ones leave (newest slots go first), their workers drained and counted against the draining bound.
 */
export async function resizeSlots(
  slots: Slot[],
  target: number,
  host: {
    log: Logger;
    options: { workers: number };
    fill(slot: Slot): Promise<void>;
    drains: { add(exit: Promise<unknown>): void };
  },
): Promise<void> {
  const before = slots.length;
  host.options.workers = target;
  host.log.info({ event: 'scale', from: before, to: target }, `scaling from ${before} to ${target} workers`);
  if (target > before) {
    const added = Array.from({ length: target - before }, (_, k) => newSlot(before + k));
    slots.push(...added);
    await Promise.all(added.map((slot) => host.fill(slot)));
    return;
  }
  const leaving = slots.splice(target).flatMap(emptySlot);
  await Promise.all(
    leaving.map((w) => {
      const exit = w.drain('scale');
      host.drains.add(exit);
      return exit;
    }),
  );
}

/** The rollout policy's view of the slots: start a worker for a slot, promote it, retire or discard workers. */
export function slotRolloutHost(deps: {
  slots: () => Slot[];
  fork: (slot: number, generation: number) => Promise<WorkerProcess>;
  readyTimeoutMs: number;
  /** A new worker took its slot: a boot succeeded. */
  promoted: () => void;
  aborted: () => boolean;
}): RolloutHost<WorkerProcess> {
  return {
    slots: () => deps.slots().map((s) => s.index),
    current: (i) => deps.slots()[i]?.current ?? null,
    start: (i, generation) => {
      const slot = deps.slots()[i];
      // A crash restart that was due is superseded by the rollout's worker.
      if (slot) cancelRestart(slot);
      return deps.fork(i, generation);
    },
    waitReady: (w) => w.waitReady(deps.readyTimeoutMs),
    lost: (w) => w.lostSinceReady(),
    promote: (i, w) => {
      const slot = deps.slots()[i];
      if (slot) serve(slot, w);
      deps.promoted();
    },
    retire: async (w) => {
      await w.drain('rollout');
    },
    discard: async (w) => {
      await w.end();
    },
    aborted: deps.aborted,
  };
}

/** What the API and `supervise status` show of a worker. */
export function workerInfo(w: WorkerProcess, restarts: number): WorkerInfo {
  return {
    id: w.id,
    slot: w.slot,
    pid: w.pid,
    generation: w.generation,
    state: w.state,
    uptimeMs: Date.now() - w.startedAt,
    restarts,
    requests: w.requests,
    inFlight: w.inFlight,
    usesSdk: w.usesSdk,
    release: w.release,
    node: w.nodeVersion,
    load: w.load,
  };
}
