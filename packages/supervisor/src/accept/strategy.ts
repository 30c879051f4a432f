/**
 * How connections reach the workers. node:cluster has two schedulers, and each strategy here is one of them,
 * with what it needs around it; both keep every promise of a drain (see each module).
 */
export type AcceptName = 'shared' | 'round-robin';

export interface AcceptStrategy {
  readonly name: AcceptName;
  /**
   * node:cluster's scheduler (cluster.SCHED_RR or cluster.SCHED_NONE), set before the first fork. Named, not
   * node's number, so that reading the option table does not load node:cluster (the control commands need none).
   */
  readonly scheduler: 'rr' | 'none';
  /** The master handles every connection (it accepts and passes it on), so its per-connection code is hot. */
  readonly masterHandlesConnections: boolean;
  /** Extra environment for every worker (the user's own values win). */
  workerEnv(): Record<string, string>;
}
