/**
 * The rollout policy: which worker to start, when to retire which, when to give up. It never touches
 * node:cluster; it drives a small host interface, so that it is unit-tested without processes.
 *
 * - Capacity never drops: a slot's old worker is retired only after its replacement is ready.
 * - At most `surge` replacements start at once, and the next batch waits until the retired workers of the
 *   previous one have exited: never more than N + surge processes.
 * - Rollback: a replacement that crashes, exits or misses its ready timeout stops the rollout; it is killed,
 *   and every worker not yet replaced keeps serving.
 * - Coalescing (RolloutQueue): a request during a rollout queues exactly one follow-up.
 */

export interface RolloutHost<W> {
  /** The slots to roll, in order. */
  slots(): number[];
  /** The worker serving a slot now (null when the slot is empty, e.g. waiting for a crash restart). */
  current(slot: number): W | null;
  start(slot: number, generation: number): W;
  /** Resolves when ready; rejects (with the reason) when it fails first. */
  waitReady(worker: W): Promise<void>;
  /** Makes `worker` the slot's serving worker. */
  promote(slot: number, worker: W): void;
  /** Drains a worker that was replaced; resolves when it has exited. */
  retire(worker: W): Promise<void>;
  /** Kills a replacement that failed or is no longer wanted; resolves when it has exited. */
  discard(worker: W): Promise<void>;
  /** True once a stop began: the rollout ends at the next step. */
  aborted(): boolean;
}

export type RolloutOutcome = 'done' | 'rolled-back' | 'aborted';

export interface RolloutResult<W = unknown> {
  generation: number;
  outcome: RolloutOutcome;
  replaced: number;
  durationMs: number;
  failure?: { slot: number; worker: W; error: unknown };
}

export async function runRollout<W>(
  host: RolloutHost<W>,
  opts: { generation: number; surge: number },
): Promise<RolloutResult<W>> {
  const started = Date.now();
  const result = (outcome: RolloutOutcome, replaced: number, failure?: RolloutResult<W>['failure']) => ({
    generation: opts.generation,
    outcome,
    replaced,
    durationMs: Date.now() - started,
    ...(failure ? { failure } : {}),
  });

  const slots = host.slots();
  const surge = Math.max(1, opts.surge);
  let replaced = 0;
  for (let i = 0; i < slots.length; i += surge) {
    if (host.aborted()) return result('aborted', replaced);
    const batch = slots.slice(i, i + surge).map((slot) => ({ slot, worker: host.start(slot, opts.generation) }));
    const outcomes = await Promise.allSettled(batch.map((b) => host.waitReady(b.worker)));

    const retiring: Promise<void>[] = [];
    let failure: RolloutResult<W>['failure'];
    const discarding: Promise<void>[] = [];
    for (const [k, b] of batch.entries()) {
      const outcome = outcomes[k]!;
      if (outcome.status === 'fulfilled' && !host.aborted()) {
        const old = host.current(b.slot);
        host.promote(b.slot, b.worker);
        if (old) retiring.push(host.retire(old));
        replaced++;
      } else {
        if (outcome.status === 'rejected' && !failure) failure = { slot: b.slot, worker: b.worker, error: outcome.reason };
        discarding.push(host.discard(b.worker));
      }
    }
    await Promise.all([...retiring, ...discarding]);
    // A stop drains replacements that were still booting: they did not fail, the rollout was cut short.
    if (host.aborted()) return result('aborted', replaced);
    if (failure) return result('rolled-back', replaced, failure);
  }
  return result('done', replaced);
}

/**
 * Serialises rollouts and merges requests: while one runs, any number of requests share one follow-up.
 */
export class RolloutQueue<R> {
  private running: Promise<R> | null = null;
  private followUp: Promise<R> | null = null;

  constructor(private readonly run: () => Promise<R>) {}

  get busy(): boolean {
    return this.running !== null;
  }

  /** Whether a follow-up is already queued behind the running rollout. */
  get queued(): boolean {
    return this.followUp !== null;
  }

  request(): Promise<R> {
    if (!this.running) return this.begin();
    if (!this.followUp) {
      const previous = this.running;
      this.followUp = previous.then(
        () => this.begin(),
        () => this.begin(),
      );
    }
    return this.followUp;
  }

  /** Resolves when no rollout is running or queued. */
  async idle(): Promise<void> {
    while (this.running || this.followUp) {
      await (this.followUp ?? this.running)?.catch(() => {});
    }
  }

  private begin(): Promise<R> {
    this.followUp = null;
    const p = this.run().finally(() => {
      if (this.running === p) this.running = null;
    });
    this.running = p;
    return p;
  }
}
