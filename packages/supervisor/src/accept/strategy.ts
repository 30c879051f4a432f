/**
 * How connections reach the workers. node:cluster has two schedulers, and each strategy here is one of them,
 * with what it needs around it; both keep every promise of a drain (see each module).
 */
export type AcceptName = 'shared' | 'round-robin';

export interface AcceptStrategy {
  readonly name: AcceptName;
  /** node:cluster's scheduling policy (cluster.SCHED_NONE or cluster.SCHED_RR), set before the first fork. */
  readonly schedulingPolicy: number;
  /** Extra environment for every worker (the user's own values win). */
  workerEnv(): Record<string, string>;
}
