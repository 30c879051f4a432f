import type { Supervisor, WorkerInfo } from '../../master/supervisor.js';

/**
 * `supervise reload` with progress: one line per worker as the rollout replaces it (a new one ready, an old one
 * gone after its drain), sent on the control connection ahead of the final answer, so that a deploy script
 * can show where a long rollout is.
 */

export interface ReloadWorker {
  slot: number;
  pid: number;
  generation: number;
  /** The Node version it reported, and the directory it runs in (the release `current` led to at its fork). */
  node: string | null;
  release: string | null;
}

export type ReloadProgress =
  | ({ event: 'ready' } & ReloadWorker)
  | { event: 'exited'; slot: number; pid: number; generation: number; killed: boolean };

const brief = (w: WorkerInfo): ReloadWorker => ({
  slot: w.slot,
  pid: w.pid,
  generation: w.generation,
  node: w.node,
  release: w.release,
});

/** Sends a progress line for every worker of a newer generation than the current one that becomes ready, and
 * every older one that exits; returns the unsubscribe. */
export function followRollout(supervisor: Supervisor, send: (progress: ReloadProgress) => void): () => void {
  const from = supervisor.generation;
  const onReady = (w: WorkerInfo) => {
    if (w.generation > from) send({ event: 'ready', ...brief(w) });
  };
  const onExit = (w: WorkerInfo, info: { killed: boolean; intended: boolean }) => {
    if (w.generation <= from && info.intended)
      send({ event: 'exited', slot: w.slot, pid: w.pid, generation: w.generation, killed: info.killed });
  };
  supervisor.on('worker:ready', onReady);
  supervisor.on('worker:exit', onExit);
  return () => {
    supervisor.off('worker:ready', onReady);
    supervisor.off('worker:exit', onExit);
  };
}

/** The workers of `generation` still alive: after a rollout that is done, the ones serving the new release. */
export function workersOf(supervisor: Supervisor, generation: number): ReloadWorker[] {
  return supervisor
    .status()
    .filter((w) => w.generation === generation && w.state !== 'exited')
    .map(brief);
}
