import cluster from 'node:cluster';
import { EventEmitter } from 'node:events';

import { SuperviseError } from '../errors.js';
import { checkScaleTarget } from '../config/option-parse.js';
import { createLogger, type Logger } from '../observe/logger.js';
import { type RawOptions, resolveOptions, type SupervisorOptions } from '../config/options.js';
import { type Balancer, balanceSharedSocket } from '../accept/balance.js';
import { startRecycler } from '../restart/recycle.js';
import { DrainSet, RolloutQueue } from '../rollout/policy.js';
import { logMasterReady } from '../rollout/report.js';
import { setupCluster } from '../worker/cluster-setup.js';
import { startWatchdog } from '../restart/watchdog.js';
import { relaySocketIoAdapter } from '../worker/socketio-relay.js';
import type { StickyListener } from '../sticky/listener.js';
import { reachableUrls, servingBySlot } from '../sticky/serving.js';
import type { WorkerProcess } from '../worker/worker-process.js';
import { StopReport } from './stop-report.js';
import { plural } from '../observe/text.js';
import type { SourceLimits } from '../config/reconfigure.js';
import { Replacer } from '../rollout/replacement.js';
import { Canaries } from '../rollout/canary.js';
import { WorkerInputs } from './worker-inputs.js';
import { WorkerLifecycle } from './lifecycle.js';
import { runMasterRollout } from './rollout-run.js';
import { runMasterStop } from './stop-run.js';
import { newSlot, resizeSlots } from './slot.js';
import type { Phase, RolloutSummary, SupervisorEvents, WorkerInfo } from './supervisor-types.js';

export type { Phase, RolloutSummary, SupervisorEvents, WorkerInfo } from './supervisor-types.js';

/**
 * The master: slots of workers, their restarts, rollouts and the stop. One instance per process (node:cluster
 * has one primary). Producers of restarts (signals, file changes, control commands, recycling) all end in
 * reload(); everything that changes a worker's state is logged with the worker's slot, pid and generation.
 */
export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly log: Logger;
  phase: Phase = 'idle';
  generation = 0;
  /** The slots and their workers outside a rollout: forks, fills, crash restarts, exits. */
  private readonly life: WorkerLifecycle;
  private readonly rollouts = new RolloutQueue<RolloutSummary>(() => this.runRollout());
  private readonly triggers: string[] = [];
  /** Every old worker on its way out after a rollout or a replacement: the draining bound counts these. */
  private readonly drains = new DrainSet();
  private startWaiter: { resolve: () => void; reject: (e: unknown) => void } | null = null;
  private fatalError: SuperviseError | null = null;
  private stopPromise: Promise<number> | null = null;
  private readonly stopReport = new StopReport();
  /** Settles when the boot ends (every worker ready, or a stop began): a restart asked for during boot waits. */
  private booting: Promise<void> = Promise.resolve();
  private bootEnded: (() => void) | null = null;
  /** Where a reload re-reads the options from (the CLI: the config file and the flags); none: they stay. */
  private optionsSource: ((limits: SourceLimits) => Promise<SupervisorOptions>) | null = null;
  /** Aborted when the stop begins: whatever the master still waits for (a config file's load) gives up. */
  private readonly stopping = new AbortController();
  /** The .env files' variables (and the workers' node), read again before every rollout. */
  private readonly inputs = new WorkerInputs();
  /** --sticky: the master's own listener on the app's port. */
  private sticky: StickyListener | null = null;
  /** --accept shared: the keep-alive balancer (its count of moved connections, for /metrics), else null. */
  balancer: Balancer | null = null;
  /** Health-gated rollouts: the bake in progress, the verdicts, the next rollout's --canary override. */
  readonly canaries = new Canaries();

  constructor(
    readonly options: SupervisorOptions,
    logger?: Logger,
  ) {
    super();
    this.log = logger ?? createLogger(options.logLevel, options.logFormat);
    this.life = new WorkerLifecycle({
      options,
      log: this.log,
      inputs: this.inputs,
      stopReport: this.stopReport,
      phase: () => this.phase,
      generation: () => this.generation,
      sticky: () => this.sticky,
      fatal: () => this.fatalError,
      emit: this.emit.bind(this),
      filled: () => this.checkStarted(),
      die: (err, cause) => this.die(err, cause),
    });
  }

  /** Forks every slot and resolves once all are ready; rejects (after stopping) when they cannot boot. */
  async start(): Promise<void> {
    if (this.phase !== 'idle') throw new Error('supervisor already started');
    if (!cluster.isPrimary) throw new Error('createSupervisor() must run in the primary process');
    const o = this.options;
    await this.inputs.load(o);
    setupCluster(o);
    relaySocketIoAdapter();
    // The master's own accept path is loaded only for --sticky: the other modes never touch a connection.
    this.sticky = o.sticky
      ? await (await import('../sticky/listener.js')).createSticky(o, {
          serving: () => servingBySlot(this.life.slots, this.life.workers),
          log: this.log,
          waitMs: o.readyTimeoutMs,
        })
      : null;
    this.phase = 'starting';
    this.generation = 1;
    this.log.info(
      { event: 'master.start', script: o.script, workers: o.workers, autoDrain: o.autoDrain, accept: o.accept },
      `starting ${plural(o.workers, 'worker')} of ${o.script}`,
    );
    const started = Date.now();
    const ready = new Promise<void>((resolve, reject) => (this.startWaiter = { resolve, reject }));
    this.booting = new Promise<void>((resolve) => (this.bootEnded = resolve));
    this.life.slots = Array.from({ length: o.workers }, (_, index) => newSlot(index));
    for (const slot of this.life.slots) void this.life.fill(slot);
    try {
      await ready;
      // The app cannot be reached (--sticky: the port is taken, or the app ignores PORT): a fatal error.
      await this.sticky?.ready().catch((err: unknown) => {
        if (err instanceof SuperviseError) this.die(err);
        throw err;
      });
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.phase = 'running';
    startWatchdog(this);
    startRecycler(this);
    this.balancer = balanceSharedSocket(this);
    // Where the app can be reached, as its workers listen: what a new user looks for first.
    const urls = reachableUrls([...this.life.workers], this.sticky);
    const durationMs = Date.now() - started;
    logMasterReady(this.log, {
      workers: o.workers,
      durationMs,
      accept: this.acceptMode,
      urls,
      cwd: o.cwd,
      running: this.status(),
    });
    this.bootEnded?.();
  }

  /**
   * Rolling restart. Requests made while one runs are merged into a single follow-up, whose result they all
   * receive. Never rejects: a failed rollout resolves with outcome 'rolled-back'.
   */
  reload(trigger = 'api', { canary }: { canary?: boolean } = {}): Promise<RolloutSummary> {
    this.triggers.push(trigger);
    if (canary !== undefined) this.canaries.overrideNext(canary);
    if (this.rollouts.busy) {
      this.log.info({ event: 'rollout.queued', trigger }, `restart requested (${trigger}) during a rollout: queued`);
    }
    return this.rollouts.request();
  }

  /**
   * Makes every reload re-read the options first (SIGHUP, `supervise reload`, a file change): what can apply to a
   * running master does (env, node args, script, workers, timeouts, limits, watch); what cannot is named. A
   * source that throws (an invalid file) keeps the running options, and the reload rolls nothing. The source
   * gets its bound (--ready-timeout) and an abort signal for the stop: a load that never settles is a refused
   * reload, not a master that waits forever.
   */
  setOptionsSource(source: (limits: SourceLimits) => Promise<SupervisorOptions>): void {
    this.optionsSource = source;
  }

  /** Resolves when every old worker that was draining (after rollouts, replacements) has exited. */
  drained(): Promise<void> {
    return this.drains.idle();
  }

  /** The draining bound in force: --max-draining, else the number of workers. */
  get maxDraining(): number {
    return this.options.maxDraining ?? this.life.slots.length;
  }

  /**
   * Graceful stop: every worker drains in parallel. Resolves with the exit code the master should use. `rollout`:
   * the service goes on elsewhere (an upgrade's new master), so WebSockets hear 1012 rather than 1001.
   */
  stop(reason: 'stop' | 'rollout' = 'stop'): Promise<number> {
    this.stopPromise ??= this.runStop(reason);
    return this.stopPromise;
  }

  /**
   * The second SIGINT/SIGTERM: kill everything now. With the exit code the process leaves with (the CLI's), the
   * master's last line says so, as every exit of the master does.
   */
  forceStop(exitCode?: number): void {
    this.log.warn({ event: 'master.force-stop', workers: this.life.workers.size }, 'forced stop: killing every worker');
    for (const w of this.life.workers) void w.kill();
    if (exitCode === undefined) return;
    this.phase = 'stopped';
    this.log.warn(
      { event: 'master.stopped', exitCode, forced: true },
      `stopped at once (second signal): every worker was killed, exit code ${exitCode}`,
    );
  }

  /** Changes the number of slots; scaling down drains the highest slots (newest slots go first). */
  async scale(target: number): Promise<void> {
    if (this.phase !== 'running') throw new SuperviseError('ERR_CONTROL', `cannot scale while ${this.phase}`);
    checkScaleTarget(target);
    await this.rollouts.idle();
    await resizeSlots(this.life.slots, target, {
      log: this.log,
      options: this.options,
      fill: (slot) => this.life.fill(slot),
      drains: this.drains,
    });
  }

  /** `supervise signal`: relays a signal to every worker (the SDK's onSignal()); how many run the SDK to hear it. */
  forwardSignal(signal: NodeJS.Signals): number {
    let heard = 0;
    for (const w of this.life.workers) if (w.forwardSignal(signal)) heard++;
    this.log.info(
      { event: 'signal.forward', signal, workers: heard },
      `relayed ${signal} to ${plural(heard, 'worker')} (the SDK's onSignal())`,
    );
    return heard;
  }

  /** Every live worker, serving or not, ordered by slot. */
  status(): WorkerInfo[] {
    return [...this.life.workers].map((w) => this.info(w)).sort((a, b) => a.slot - b.slot || a.id - b.id);
  }

  get readyCount(): number {
    return this.life.slots.filter((s) => s.current?.state === 'ready').length;
  }

  get rolloutRunning(): boolean {
    return this.rollouts.busy;
  }

  /** How connections reach the workers, as the ready line and `supervise status` name it. */
  get acceptMode(): string {
    const sticky = this.options.sticky;
    return sticky ? `sticky${sticky.trustProxy ? ' by X-Forwarded-For' : ''}` : this.options.accept;
  }

  /** The master's own accept path with --sticky (its counters, for /metrics), else null. */
  get stickyListener(): StickyListener | null {
    return this.sticky;
  }

  /** Live worker processes; for the recycler and the watchdog. */
  liveWorkers(): WorkerProcess[] {
    return [...this.life.workers];
  }

  /**
   * Replaces one serving worker through the zero-downtime path (recycling, watchdog): the new worker first,
   * then a drain (or, with `kill`, a SIGKILL) of the old one. Replacements run one at a time and never during
   * a rollout, so they add at most one serving process; the old one's drain counts against the draining bound
   * like a rollout's. Resolves true once the new worker serves and the old one has begun to leave.
   */
  replace(worker: WorkerProcess, why: string, { kill = false } = {}): Promise<boolean> {
    return this.replacer.replace(worker, why, kill);
  }

  private readonly replacer = new Replacer({
    fork: (slot) => this.life.fork(slot, this.generation),
    readyTimeoutMs: () => this.options.readyTimeoutMs,
    running: () => this.phase === 'running',
    drains: this.drains,
    maxDraining: () => this.maxDraining,
    log: () => this.log,
    restartLater: (slot) => this.life.scheduleRestart(slot),
    slots: () => this.life.slots,
    rolloutBusy: () => this.rollouts.busy,
    rolloutIdle: () => this.rollouts.idle(),
  });

  private checkStarted(): void {
    if (this.phase === 'starting' && this.life.slots.every((s) => s.current?.state === 'ready')) {
      this.startWaiter?.resolve();
      this.startWaiter = null;
    }
  }

  /**
   * Stops the master for good. The log line carries the failure's one-line cause, not the worker's last lines
   * again: those were printed once already, as the worker's own output.
   */
  private die(err: SuperviseError, cause: string | null = null): void {
    if (this.fatalError) return;
    this.fatalError = err;
    this.log.fatal({ event: 'master.fatal', code: err.code, cause }, err.message);
    this.emit('fatal', err);
    if (this.startWaiter) {
      this.startWaiter.reject(err);
      this.startWaiter = null;
    } else {
      void this.stop();
    }
  }

  get fatal(): SuperviseError | null {
    return this.fatalError;
  }

  // ---- rollouts and the stop: their steps live in rollout-run.ts and stop-run.ts ----

  private runRollout(): Promise<RolloutSummary> {
    return runMasterRollout({
      options: this.options,
      log: this.log,
      life: this.life,
      drains: this.drains,
      inputs: this.inputs,
      optionsSource: this.optionsSource,
      stopSignal: this.stopping.signal,
      phase: () => this.phase,
      generation: () => this.generation,
      nextGeneration: () => ++this.generation,
      maxDraining: () => this.maxDraining,
      takeTriggers: () => this.triggers.splice(0),
      replacerIdle: () => this.replacer.idle(),
      booting: () => this.booting,
      scale: (n) => this.scale(n),
      canaryGate: (host, generation) => this.canaries.gate(host, generation, this),
      canaryChoice: (trigger) => this.canaries.choose(this.options, trigger),
      emit: this.emit.bind(this),
    });
  }

  private runStop(reason: 'stop' | 'rollout'): Promise<number> {
    const m = this;
    return runMasterStop(
      {
        log: this.log,
        get slots() {
          return m.life.slots;
        },
        workers: this.life.workers,
        get sticky() {
          return m.sticky;
        },
        stopReport: this.stopReport,
        get fatalError() {
          return m.fatalError;
        },
        phase: () => this.phase,
        setPhase: (phase) => (this.phase = phase),
        abortWaits: () => {
          this.stopping.abort();
          this.bootEnded?.();
        },
        rolloutsIdle: () => this.rollouts.idle(),
        rejectStart: (err) => {
          this.startWaiter?.reject(err);
          this.startWaiter = null;
        },
        emit: this.emit.bind(this),
      },
      reason,
    );
  }

  private info(w: WorkerProcess): WorkerInfo {
    return this.life.info(w);
  }
}

/** The programmatic API: validated options in, a supervisor out (not yet started). */
export function createSupervisor(raw: RawOptions & { logger?: Logger }): Supervisor {
  const { logger, ...rest } = raw;
  return new Supervisor(resolveOptions(rest), logger);
}
