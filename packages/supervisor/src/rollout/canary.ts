import type { Outcomes } from '@supervise/worker-sdk/protocol';
import { emptyOutcomes, outcomesSince, sumOutcomes } from '@supervise/worker-sdk/outcomes';

import type { SupervisorOptions } from '../config/options.js';
import type { Logger } from '../observe/logger.js';
import type { WorkerProcess } from '../worker/worker-process.js';
import type { RolloutHost } from './policy.js';
import {
  type CanaryFigures,
  type CanaryLimits,
  type CanaryVerdict,
  describeVerdict,
  figures,
  judgeCanary,
  type VerdictResult,
} from './canary-verdict.js';

/** The bake's settings (the --canary-* options). */
export interface BakeSettings {
  /** The bake ends once the canaries served this many requests after their warm-up... */
  requests: number;
  /** ...or this long after they became ready, whichever comes first. */
  timeMs: number;
  /** Requests of the canaries left out before the comparison starts (a fresh process runs cold), for at most half the time. */
  warmup: number;
  limits: CanaryLimits;
}

/** What `supervise status` shows during a bake: the canaries' figures beside the old generation's. */
export interface BakeStatus {
  generation: number;
  pids: number[];
  /** warm-up: the canaries serve, their first requests are not compared yet. */
  stage: 'warm-up' | 'comparing';
  elapsedMs: number;
  canary: CanaryFigures;
  old: CanaryFigures;
  limits: CanaryLimits;
  requestsWanted: number;
  timeMs: number;
}

/** A canary that did worse than the old workers: the rollout rolls back with this as its failure. */
export class CanaryFailure extends Error {
  constructor(
    readonly verdict: CanaryVerdict,
    line: string,
  ) {
    super(line);
  }
}

/** How a bake ended, as the rollout's summary and the reload's answer carry it. */
export interface CanaryReport {
  result: VerdictResult | 'lost' | 'aborted';
  /** The verdict's line (each figure and its limit); for 'lost', why the canary stopped serving. */
  line: string;
  verdict: CanaryVerdict | null;
  durationMs: number;
}

const reading = (w: WorkerProcess): Outcomes => w.outcomes ?? emptyOutcomes();

/** Each worker's counts now, by pid: an old worker that exits during the bake drops out of both ends. */
function readAll(workers: readonly WorkerProcess[]): Map<number, Outcomes> {
  return new Map(workers.map((w) => [w.pid, reading(w)]));
}

function since(workers: readonly WorkerProcess[], base: Map<number, Outcomes>): Outcomes {
  const live = workers.filter((w) => base.has(w.pid) && w.state !== 'exited');
  return sumOutcomes(live.map((w) => outcomesSince(reading(w), base.get(w.pid)!)));
}

/**
 * One bake: the canaries serve beside the old workers; from the end of their warm-up both sides are counted
 * over the same interval (the difference of their heartbeats' counters), and the verdict comes once the
 * canaries have served `requests` or at `timeMs`. Synchronised on heartbeats, never on a guess of how long
 * traffic takes.
 */
export class Bake {
  private readonly startedAt = Date.now();
  private base: { canary: Map<number, Outcomes>; old: Map<number, Outcomes> } | null = null;
  private readonly emptyBase = { canary: new Map<number, Outcomes>(), old: new Map<number, Outcomes>() };

  constructor(
    readonly generation: number,
    private readonly canaries: readonly WorkerProcess[],
    private readonly old: () => WorkerProcess[],
    private readonly settings: BakeSettings,
  ) {}

  /** Resolves with the report; `aborted` is polled at each heartbeat (a stop ends the bake). */
  run(aborted: () => boolean): Promise<CanaryReport> {
    return new Promise((resolve) => {
      const done = (report: CanaryReport): void => {
        clearTimeout(timer);
        for (const w of this.canaries) w.off('heartbeat', check).off('state', check);
        resolve(report);
      };
      const check = (): void => {
        if (aborted()) return done(this.report('aborted', 'the master is stopping'));
        const lost = this.canaries.map((w) => w.lostSinceReady()).find((e) => e !== null);
        if (lost) return done(this.report('lost', lost.message));
        if (!this.base) {
          const served = this.canaries.reduce((n, w) => n + (w.outcomes ? w.requests : 0), 0);
          const warm = served >= this.settings.warmup || Date.now() - this.startedAt >= this.settings.timeMs / 2;
          if (warm) this.base = { canary: readAll(this.canaries), old: readAll(this.old()) };
          return;
        }
        if (figures(this.since().canary).requests >= this.settings.requests) done(this.verdict());
      };
      const timer = setTimeout(() => done(this.verdict()), this.settings.timeMs);
      for (const w of this.canaries) w.on('heartbeat', check).on('state', check);
      check();
    });
  }

  status(): BakeStatus {
    const { canary, old } = this.since();
    return {
      generation: this.generation,
      pids: this.canaries.map((w) => w.pid),
      stage: this.base ? 'comparing' : 'warm-up',
      elapsedMs: Date.now() - this.startedAt,
      canary: figures(canary),
      old: figures(old),
      limits: this.settings.limits,
      requestsWanted: this.settings.requests,
      timeMs: this.settings.timeMs,
    };
  }

  private since(): { canary: Outcomes; old: Outcomes } {
    const base = this.base ?? this.emptyBase;
    return { canary: since(this.canaries, base.canary), old: since(this.old(), base.old) };
  }

  private verdict(): CanaryReport {
    const { canary, old } = this.since();
    const verdict = judgeCanary(canary, old, this.settings.limits);
    const durationMs = Date.now() - this.startedAt;
    return {
      result: verdict.result,
      line: describeVerdict(verdict, this.settings.limits, durationMs),
      verdict,
      durationMs,
    };
  }

  private report(result: 'lost' | 'aborted', line: string): CanaryReport {
    return { result, line, verdict: null, durationMs: Date.now() - this.startedAt };
  }
}

/** The bake's settings, from the options in force when the rollout starts. */
export function bakeSettings(o: SupervisorOptions): BakeSettings {
  return {
    requests: o.canaryRequests,
    timeMs: o.canaryTimeMs,
    warmup: o.canaryWarmup,
    limits: {
      minRequests: o.canaryMinRequests,
      maxErrorRate: o.canaryMaxErrorRate,
      maxErrorRatio: o.canaryMaxErrorRatio,
      maxLatencyRatio: o.canaryMaxP99Ratio,
      latencyAllowanceMs: o.canaryP99AllowanceMs,
    },
  };
}

/**
 * The master's canaries: the per-rollout choice (`supervise reload --canary/--no-canary`, watch reloads skip
 * it), the bake in progress (for `supervise status`) and the verdicts so far (for /metrics).
 */
export class Canaries {
  current: Bake | null = null;
  readonly verdicts: Record<VerdictResult, number> = { pass: 0, fail: 0, insufficient: 0 };
  private override: boolean | null = null;

  /** The next rollout runs with (true) or without (false) a canary, whatever --canary says. */
  overrideNext(canary: boolean): void {
    this.override = canary;
  }

  /** How many canaries this rollout bakes: the override, else --canary; never for file changes alone. */
  choose(o: SupervisorOptions, trigger: string): number {
    const override = this.override;
    this.override = null;
    return (override ?? (o.canary && !trigger.startsWith('watch:'))) ? o.canaryWorkers : 0;
  }

  /**
   * The rollout host with its bake: the canaries of `generation` against every ready worker of an older one.
   */
  gate(
    host: RolloutHost<WorkerProcess>,
    generation: number,
    master: { options: SupervisorOptions; log: Logger; phase: string; liveWorkers(): WorkerProcess[] },
  ): RolloutHost<WorkerProcess> {
    const old = () => master.liveWorkers().filter((w) => w.generation < generation && w.state === 'ready');
    const ctx = { log: master.log, aborted: () => master.phase !== 'running' };
    return { ...host, bake: (ws) => this.bake(generation, ws, old, bakeSettings(master.options), ctx) };
  }

  /** Bakes the canaries and logs the verdict; null when the rollout goes on, the failure otherwise. */
  async bake(
    generation: number,
    canaries: readonly WorkerProcess[],
    old: () => WorkerProcess[],
    settings: BakeSettings,
    ctx: { log: Logger; aborted: () => boolean },
  ): Promise<{ report: CanaryReport; failure: Error | null }> {
    const bake = new Bake(generation, canaries, old, settings);
    const pids = canaries.map((w) => w.pid);
    ctx.log.info(
      { event: 'canary.start', generation, pids, requests: settings.requests, timeMs: settings.timeMs },
      `rollout ${generation}: canary ${pids.join(', ')} bakes beside the old workers (until ${settings.requests} requests or ${settings.timeMs} ms)`,
    );
    this.current = bake;
    const report = await bake.run(ctx.aborted).finally(() => {
      if (this.current === bake) this.current = null;
    });
    if (report.result === 'aborted') return { report, failure: null };
    if (report.result === 'lost') return { report, failure: new Error(report.line) };
    this.verdicts[report.result]++;
    const fields = {
      event: 'canary.verdict',
      generation,
      result: report.result,
      durationMs: report.durationMs,
      ...report.verdict,
    };
    if (report.result === 'fail') ctx.log.error(fields, `rollout ${generation}: ${report.line}: rolling back`);
    else if (report.result === 'insufficient')
      ctx.log.warn(fields, `rollout ${generation}: ${report.line}: rolling out without a verdict`);
    else ctx.log.info(fields, `rollout ${generation}: ${report.line}`);
    return { report, failure: report.result === 'fail' ? new CanaryFailure(report.verdict!, report.line) : null };
  }
}
