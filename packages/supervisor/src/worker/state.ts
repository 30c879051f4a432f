/**
 * One worker is in exactly one of these states; every transition goes through `transition()` and the
 * supervisor logs each one. `draining` covers both a drain the master asked for and one the worker started
 * itself (SIGTERM aimed at it, master loss): from then on it is out of round-robin and on its way out.
 */
export type WorkerState = 'starting' | 'ready' | 'draining' | 'exited';

const ALLOWED: Record<WorkerState, readonly WorkerState[]> = {
  starting: ['ready', 'draining', 'exited'],
  ready: ['draining', 'exited'],
  draining: ['exited'],
  exited: [],
};

export function canTransition(from: WorkerState, to: WorkerState): boolean {
  return ALLOWED[from].includes(to);
}

/** Returns the next state, or null when the move is not allowed (a late event for a state already left). */
export function transition(from: WorkerState, to: WorkerState): WorkerState | null {
  return canTransition(from, to) ? to : null;
}

/**
 * Why a worker that was not asked to leave did leave: decides between rollback, restart and the breaker.
 * `spawn`: the process could not be started at all (no pid): there is no worker, only its cause.
 */
export type FailureReason = 'crashed' | 'exited' | 'ready-timeout' | 'listen-error' | 'protocol' | 'spawn';

export class WorkerFailure extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
    readonly lastLines: string[],
    readonly exitCode: number | null = null,
    readonly signal: string | null = null,
  ) {
    super(message);
    this.name = 'WorkerFailure';
  }
}
