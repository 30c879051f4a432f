import type { DrainReason, DrainStats } from '@supervise/worker-sdk/protocol';

/** How a worker process ended, as the master saw it. */
export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** The master asked it to leave (drain, kill), as opposed to a crash. */
  intended: boolean;
  /** The master had to SIGKILL it. */
  killed: boolean;
  /** What the worker's drain reported in its ack, when it sent one. */
  stats: DrainStats | null;
  /** Why the master drained it (null: it was killed, or it left by itself). */
  reason: DrainReason | null;
  /** It had been ready (served), as opposed to failing or being stopped at boot. */
  served: boolean;
  /**
   * Asked to leave, it died on its own before its drain was done: no ack, not killed by the master, and a
   * non-zero code or a signal the master did not send (a handler that threw while it drained).
   */
  died: boolean;
}
