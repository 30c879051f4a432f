import type { Logger } from '../observe/logger.js';
import type { SupervisorOptions } from '../config/options.js';
import type { WorkerProcess } from '../worker/worker-process.js';

/**
 * What recycling and the watchdog need from the master, and no more: the live workers, and the one path that
 * replaces a serving worker (a new worker first, then the old one's drain or kill). They depend on this, not
 * on the Supervisor class.
 */
export interface ReplaceHost {
  readonly options: SupervisorOptions;
  readonly log: Logger;
  readonly phase: string;
  liveWorkers(): WorkerProcess[];
  /** Resolves true once the new worker serves and the old one has begun to leave. */
  replace(worker: WorkerProcess, why: string, opts?: { kill?: boolean }): Promise<boolean>;
  once(event: 'stopping', listener: () => void): unknown;
}
