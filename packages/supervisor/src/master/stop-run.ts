import { SuperviseError } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { plural } from '../observe/text.js';
import type { StickyListener } from '../sticky/listener.js';
import type { WorkerProcess } from '../worker/worker-process.js';
import { cancelRestart, type Slot } from './slot.js';
import type { StopReport } from './stop-report.js';
import type { Phase, EmitSupervisorEvent } from './supervisor-types.js';

/** What the stop reads and changes on the master. */
export interface StopMaster {
  readonly log: Logger;
  readonly slots: Slot[];
  readonly workers: Set<WorkerProcess>;
  readonly sticky: StickyListener | null;
  readonly stopReport: StopReport;
  readonly fatalError: SuperviseError | null;
  phase(): Phase;
  setPhase(phase: Phase): void;
  /** Aborts what the master still waits for (a config file's load) and ends the boot's wait. */
  abortWaits(): void;
  rolloutsIdle(): Promise<void>;
  /** start() still waits for its workers: it settles with this error, after the stop, rather than never. */
  rejectStart(err: SuperviseError): void;
  readonly emit: EmitSupervisorEvent;
}

/** The graceful stop: every worker drains in parallel; resolves with the exit code the master should use. */
export async function runMasterStop(m: StopMaster, reason: 'stop' | 'rollout' = 'stop'): Promise<number> {
  const { log, workers } = m;
  const wasStarting = m.phase() === 'starting';
  m.setPhase('stopping');
  m.abortWaits();
  m.emit('stopping');
  m.sticky?.close();
  for (const slot of m.slots) cancelRestart(slot);
  const started = Date.now();
  log.info({ event: 'master.stopping', workers: workers.size }, `stopping: draining ${plural(workers.size, 'worker')}`);
  // A rollout in progress sees the phase and stops at its next step; new workers it started drain too.
  while (workers.size > 0) {
    await Promise.all([...workers].map((w) => w.drain(reason)));
    await m.rolloutsIdle();
  }
  await m.rolloutsIdle();
  // A stop during the boot forced nothing that had served.
  const code = m.stopReport.code(m.fatalError?.exitCode ?? null, wasStarting);
  m.setPhase('stopped');
  m.rejectStart(new SuperviseError('ERR_STOPPED', 'stopped before every worker was ready'));
  m.stopReport.logStopped(log, code, Date.now() - started);
  m.emit('stopped', code);
  return code;
}
