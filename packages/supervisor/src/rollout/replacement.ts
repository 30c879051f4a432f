import type { Logger } from '../observe/logger.js';
import type { DrainSet } from './policy.js';
import { serve, type Slot, vacate } from '../master/slot.js';
import type { WorkerProcess } from '../worker/worker-process.js';

/** What replacing one slot's worker needs from the master. */
export interface ReplacementHost {
  /** Rejects when the process could not be started (spawn.ts). */
  fork(slot: number): Promise<WorkerProcess>;
  readyTimeoutMs(): number;
  running(): boolean;
  drains: DrainSet;
  maxDraining(): number;
  log(): Logger;
  /** Refills an emptied slot through the crash path (backoff, breaker). */
  restartLater(slot: Slot): void;
  slots(): readonly Slot[];
  /** A rollout runs (or is queued); replacements wait for it, and rollouts for them. */
  rolloutBusy(): boolean;
  rolloutIdle(): Promise<void>;
}

/**
 * Replacements one at a time, never during a rollout, so that they add at most one serving process; the old
 * worker's drain counts against the draining bound like a rollout's.
 */
export class Replacer {
  private current: Promise<boolean> | null = null;

  constructor(private readonly host: ReplacementHost) {}

  /** Resolves once no replacement runs (a rollout waits for it). */
  async idle(): Promise<void> {
    while (this.current) await this.current;
  }

  /** Resolves true once the new worker serves and the old one has begun to leave; false when it was not done. */
  async replace(worker: WorkerProcess, why: string, kill: boolean): Promise<boolean> {
    const host = this.host;
    const slot = host.slots().find((s) => s.current === worker);
    if (!slot || !host.running()) return false;
    host
      .log()
      .warn(
        { event: 'worker.replace', slot: slot.index, pid: worker.pid, reason: why },
        `replacing worker ${worker.pid} (slot ${slot.index}): ${why}`,
      );
    while (host.rolloutBusy() || this.current) await (this.current ?? host.rolloutIdle());
    if (slot.current !== worker || !host.running()) return false;
    const job = replaceInSlot(host, slot, worker, kill);
    this.current = job;
    try {
      return await job;
    } finally {
      if (this.current === job) this.current = null;
    }
  }
}

/**
 * One slot's worker replaced through the zero-downtime path (recycling, the watchdog): the new worker first,
 * then the old one's drain (or, with `kill`, a SIGKILL), counted against the draining bound like a rollout's.
 * A slot that changed meanwhile (a crash, a scale-down) keeps what it has. Resolves true once the new worker
 * serves and the old one has begun to leave.
 */
export async function replaceInSlot(
  host: ReplacementHost,
  slot: Slot,
  worker: WorkerProcess,
  kill: boolean,
): Promise<boolean> {
  // A hung worker goes at once; a recycled one waits until its drain fits under the bound.
  if (!kill) await host.drains.room(host.maxDraining(), 1);
  if (slot.current !== worker || !host.running()) return false;
  let fresh: WorkerProcess | null = null;
  try {
    fresh = await host.fork(slot.index);
    await fresh.waitReady(host.readyTimeoutMs());
    // Ready once is not enough: it must still be when it takes the slot.
    const lost = fresh.lostSinceReady();
    if (lost) throw lost;
  } catch (err) {
    await fresh?.kill();
    const message = err instanceof Error ? err.message : String(err);
    host.log().error(
      {
        event: 'worker.replace-failed',
        slot: slot.index,
        pid: worker.pid,
        ...(fresh ? { failedPid: fresh.pid } : {}),
        reason: message,
        lastLines: fresh?.lastLines ?? [],
      },
      `replacement of worker ${worker.pid} failed: ${message}${kill ? '' : '; it keeps serving'}`,
    );
    if (kill && vacate(slot, worker)) {
      // A hung worker goes anyway; its slot refills through the crash path.
      await worker.kill();
      host.restartLater(slot);
    }
    return false;
  }
  if (slot.current !== worker || !host.running()) {
    await fresh.drain('scale');
    return false;
  }
  serve(slot, fresh);
  host.drains.add(kill ? worker.kill() : worker.drain('recycle'));
  return true;
}
