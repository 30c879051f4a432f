import type { Logger } from '../observe/logger.js';
import type { WorkerProcess } from './worker-process.js';
import type { WorkerState } from './state.js';

/**
 * The log lines of one worker's life, as a subscriber to its events: the fork, each state it enters (named,
 * with why it drains and how), a listen error. Its exit is logged by the supervisor, which knows its report.
 */
export function logWorker(log: Logger, w: WorkerProcess): void {
  const fields = () => ({ slot: w.slot, pid: w.pid, worker: w.id, generation: w.generation });
  log.info(
    { event: 'worker.fork', ...fields() },
    `worker ${w.pid} forked (slot ${w.slot}, generation ${w.generation})`,
  );
  w.on('state', (from: WorkerState, to: WorkerState) => {
    if (to === 'exited') return; // logged with its exit status
    const extra =
      to === 'draining' && w.drainReason
        ? { reason: w.drainReason }
        : // How this worker will drain: its own SDK, the preloaded engine, or disconnect + signals.
          to === 'ready'
          ? {
              drain: w.usesSdk ? 'sdk' : w.drainsItself ? 'preload' : 'none',
              node: w.nodeVersion,
              release: w.release,
            }
          : {};
    // Which Node and which release a new worker runs: what a deploy wants to see in the log.
    const runs = to === 'ready' ? [w.nodeVersion && `node ${w.nodeVersion}`, w.release].filter(Boolean) : [];
    log.info(
      { event: 'worker.state', from, to, ...fields(), ...extra },
      `worker ${w.pid} ${from} -> ${to}${w.drainReason && to === 'draining' ? ` (${w.drainReason})` : ''}` +
        (runs.length ? ` (${runs.join(', ')})` : ''),
    );
  });
  // With a shared socket (the default) this, not the state change, is when new connections stop reaching it.
  w.on('closed', () =>
    log.debug({ event: 'worker.closed', ...fields() }, `worker ${w.pid} stopped accepting connections`),
  );
  w.on('listen-error', (message: string) =>
    log.warn(
      { event: 'worker.listen-error', ...fields(), reason: message },
      `worker ${w.pid} could not listen: ${message}`,
    ),
  );
}
