/**
 * The rollout policy: which worker to start, when to retire which, when to give up. It never touches
 * node:cluster; it drives a small host interface, so that it is unit-tested without processes.
 *
 * - Capacity never drops: a slot's old worker is retired only after its replacement is ready.
 * - At most `surge` replacements start at once: never more than N + surge serving workers. The next batch
 *   starts as soon as the previous one's replacements are ready and its old workers began to drain (they
 *   left round-robin); draining workers do not count against the surge, so a rollout's pace does not depend
 *   on how long the old workers' requests take (as Kubernetes' maxSurge and gunicorn's HUP behave).
 * - Draining workers are bounded apart (`maxDraining`, shared by every rollout and replacement through one
 *   DrainSet): at the bound, the next batch waits until a drain ends. Memory is what that bound protects.
 * - Rollback: a replacement that cannot be started, crashes, exits or misses its ready timeout stops the
 *   rollout; it is killed, every worker not yet replaced keeps serving, and the old workers already draining
 *   finish their drain. A replacement is promoted only while it is alive and ready: one that was ready and
 *   died while the rest of its batch booted fails the rollout too (its old worker was never retired).
 * - Canary (`canary` > 0): the first slots' replacements first serve beside every old worker, as extra
 *   workers, until the host's bake says whether they do as well. Worse: they drain (they served: their
 *   requests finish) and the rollout rolls back with no old worker touched. Otherwise they take their slots
 *   and the rest rolls at the normal pace.
 * - Coalescing (RolloutQueue): a request during a rollout queues exactly one follow-up.
 */

/**
 * The drains in progress, across rollouts and replacements: each is the promise of one old worker's exit.
 * The one place that knows how many old workers are still on their way out.
 */
export class DrainSet {
  private readonly pending = new Set<Promise<void>>();

  get count(): number {
    return this.pending.size;
  }

  /** Counts a drain until `exit` settles. */
  add(exit: Promise<unknown>): void {
    const p: Promise<void> = exit.then(
      () => {},
      () => {},
    );
    this.pending.add(p);
    void p.then(() => this.pending.delete(p));
  }

  /** Resolves once `needed` more drains fit under `limit` (or nothing drains: a bound below one batch). */
  async room(limit: number, needed: number): Promise<void> {
    while (this.pending.size > 0 && this.pending.size + needed > limit) await Promise.race(this.pending);
  }

  /** Resolves when every drain counted now has ended. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending);
  }
}

export interface RolloutHost<W> {
  /** The slots to roll, in order. */
  slots(): number[];
  /** The worker serving a slot now (null when the slot is empty, e.g. waiting for a crash restart). */
  current(slot: number): W | null;
  /** Starts a replacement; throws or rejects when its process could not be started (there is no worker). */
  start(slot: number, generation: number): W | Promise<W>;
  /** Resolves when ready; rejects (with the reason) when it fails first. */
  waitReady(worker: W): Promise<void>;
  /** Why a worker that was ready no longer is (it exited, or began to drain by itself); null while it serves. */
  lost(worker: W): Error | null;
  /** Makes `worker` the slot's serving worker. */
  promote(slot: number, worker: W): void;
  /** Drains a worker that was replaced: it leaves round-robin at once; resolves when it has exited. */
  retire(worker: W): Promise<void>;
  /** Kills a replacement that failed or is no longer wanted; resolves when it has exited. */
  discard(worker: W): Promise<void>;
  /** True once a stop began: the rollout ends at the next step. */
  aborted(): boolean;
  /**
   * Judges ready canaries serving beside the old workers: `failure` null to go on, else why to roll back;
   * `report` is carried in the result as is.
   */
  bake?(canaries: W[]): Promise<{ failure: Error | null; report: unknown }>;
}

export type RolloutOutcome = 'done' | 'rolled-back' | 'aborted';

export interface RolloutResult<W = unknown> {
  generation: number;
  outcome: RolloutOutcome;
  replaced: number;
  /** Until the last slot had a new ready worker (or the rollout gave up): old workers may still drain. */
  durationMs: number;
  /** Old workers still draining at that moment (this rollout's and any earlier ones'). */
  draining: number;
  /** `worker` is null when the replacement's process could not be started. */
  failure?: { slot: number; worker: W | null; error: unknown };
  /** The bake's report (host.bake), when the rollout had a canary. */
  canary?: unknown;
}

export interface RolloutOptions {
  generation: number;
  surge: number;
  /** At most this many old workers drain at once. */
  maxDraining: number;
  drains: DrainSet;
  /** Canary workers baked before the rest (needs host.bake); 0 or absent: none. */
  canary?: number;
}

type Failure<W> = NonNullable<RolloutResult<W>['failure']>;

/**
 * The canary phase: `slots`' replacements start as extra workers, bake, then take their slots. Resolves with
 * how many were promoted, or how it ended otherwise (every canary drained or discarded then).
 */
async function canaryPhase<W>(
  host: RolloutHost<W>,
  bake: NonNullable<RolloutHost<W>['bake']>,
  slots: number[],
  opts: RolloutOptions,
): Promise<{ promoted: number; report?: unknown } | { failure?: Failure<W>; aborted?: true; report?: unknown }> {
  const started = await Promise.allSettled(slots.map(async (slot) => host.start(slot, opts.generation)));
  const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const give = async (end: { failure?: Failure<W>; aborted?: true; report?: unknown }, served = false) => {
    // Canaries that served hold requests: they drain, counted like any old worker's drain. The others go.
    if (served) for (const w of workers) opts.drains.add(host.retire(w));
    else await Promise.all(workers.map((w) => host.discard(w)));
    return end;
  };
  const notStarted = started.findIndex((s) => s.status === 'rejected');
  if (notStarted !== -1) {
    const error = (started[notStarted] as PromiseRejectedResult).reason as unknown;
    return give({ failure: { slot: slots[notStarted]!, worker: null, error } });
  }
  const ready = await Promise.allSettled(workers.map((w) => host.waitReady(w)));
  const failed = ready.findIndex((r) => r.status === 'rejected');
  if (failed !== -1) {
    const error = (ready[failed] as PromiseRejectedResult).reason as unknown;
    return give({ failure: { slot: slots[failed]!, worker: workers[failed]!, error } });
  }
  if (host.aborted()) return give({ aborted: true });
  const { failure, report } = await bake(workers);
  if (host.aborted()) return give({ aborted: true, report }, true);
  if (failure) return give({ failure: { slot: slots[0]!, worker: workers[0]!, error: failure }, report }, true);
  for (const [k, w] of workers.entries()) {
    const lost = host.lost(w);
    if (lost) return give({ failure: { slot: slots[k]!, worker: w, error: lost }, report }, true);
  }
  for (const [k, w] of workers.entries()) {
    const old = host.current(slots[k]!);
    host.promote(slots[k]!, w);
    if (old) opts.drains.add(host.retire(old));
  }
  return { promoted: workers.length, report };
}

export async function runRollout<W>(host: RolloutHost<W>, opts: RolloutOptions): Promise<RolloutResult<W>> {
  const started = Date.now();
  const { drains } = opts;
  let canary: unknown;
  const result = (outcome: RolloutOutcome, replaced: number, failure?: RolloutResult<W>['failure']) => ({
    generation: opts.generation,
    outcome,
    replaced,
    durationMs: Date.now() - started,
    draining: drains.count,
    ...(failure ? { failure } : {}),
    ...(canary === undefined ? {} : { canary }),
  });

  let slots = host.slots();
  let replaced = 0;
  if (opts.canary && opts.canary > 0 && host.bake && slots.length > 0) {
    const phase = await canaryPhase(host, host.bake.bind(host), slots.slice(0, opts.canary), opts);
    canary = phase.report;
    if ('promoted' in phase) replaced = phase.promoted;
    else if (phase.aborted) return result('aborted', 0);
    else return result('rolled-back', 0, phase.failure);
    slots = slots.slice(opts.canary);
  }
  // A batch retires as many old workers as it starts new ones: it must fit under the draining bound.
  const batchSize = Math.max(1, Math.min(opts.surge, opts.maxDraining));
  for (let i = 0; i < slots.length; i += batchSize) {
    const slice = slots.slice(i, i + batchSize);
    await drains.room(opts.maxDraining, slice.length);
    if (host.aborted()) return result('aborted', replaced);
    const started = await Promise.allSettled(slice.map(async (slot) => host.start(slot, opts.generation)));
    const batch = slice.map((slot, k) => {
      const s = started[k]!;
      return s.status === 'fulfilled' ? { slot, worker: s.value } : { slot, worker: null, error: s.reason as unknown };
    });
    const outcomes = await Promise.allSettled(
      batch.map((b) => (b.worker === null ? Promise.reject(b.error) : host.waitReady(b.worker))),
    );

    let failure: RolloutResult<W>['failure'];
    const discarding: Promise<void>[] = [];
    for (const [k, b] of batch.entries()) {
      const outcome = outcomes[k]!;
      // Ready once is not enough: it may have died while the rest of its batch booted.
      const lost = outcome.status === 'fulfilled' && b.worker ? host.lost(b.worker) : null;
      if (outcome.status === 'fulfilled' && !lost && b.worker && !host.aborted()) {
        const old = host.current(b.slot);
        host.promote(b.slot, b.worker);
        if (old) drains.add(host.retire(old));
        replaced++;
      } else {
        if ((outcome.status === 'rejected' || lost) && !failure)
          failure = { slot: b.slot, worker: b.worker, error: outcome.status === 'rejected' ? outcome.reason : lost };
        if (b.worker) discarding.push(host.discard(b.worker));
      }
    }
    await Promise.all(discarding);
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
