import type { RolloutHost } from './rollout.js';
import type { WorkerInfo } from './supervisor-types.js';
import type { WorkerProcess } from './worker.js';

/** One place in the pool of workers: who serves it, who is starting for it, and its restart history. */
export interface Slot {
  index: number;
  current: WorkerProcess | null;
  /** A worker starting to fill the slot outside a rollout (first start, crash restart, scale up). */
  filling: WorkerProcess | null;
  attempt: number;
  restarts: number;
  restartTimer: NodeJS.Timeout | null;
}

export function newSlot(index: number): Slot {
  return { index, current: null, filling: null, attempt: 0, restarts: 0, restartTimer: null };
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

/** The rollout policy's view of the slots: start a worker for a slot, promote it, retire or discard workers. */
export function slotRolloutHost(deps: {
  slots: () => Slot[];
  fork: (slot: number, generation: number) => WorkerProcess;
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
    promote: (i, w) => {
      const slot = deps.slots()[i];
      if (slot) slot.current = w;
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
    load: w.load,
  };
}
