import type { Slot } from '../master/slot.js';
import type { WorkerProcess } from '../worker/worker-process.js';
import type { StickyListener } from './listener.js';

/**
 * The workers that take new connections (--sticky), one per slot: the slot's serving worker, else one that
 * became ready for it and is about to take it (a first start, a restart).
 */
export function servingBySlot(slots: readonly Slot[], workers: Iterable<WorkerProcess>): WorkerProcess[] {
  const live = (w: WorkerProcess | null): w is WorkerProcess =>
    w !== null && w.state === 'ready' && w.worker.isConnected();
  const all = [...workers];
  return slots.flatMap((slot) => {
    if (live(slot.current)) return [slot.current];
    const next = all.find((w) => w.slot === slot.index && live(w));
    return next ? [next] : [];
  });
}

/** Where clients reach the app; with --sticky, the master's port instead of the workers' private one. */
export function reachableUrls(workers: readonly WorkerProcess[], sticky: StickyListener | null): string[] {
  const own = workers.flatMap((w) => w.listeningOn);
  if (!sticky?.address) return [...new Set(own)];
  return [sticky.address, ...new Set(own.filter((u) => !u.endsWith(`:${sticky.privatePort}`)))];
}
