import cluster from 'node:cluster';
import { EventEmitter } from 'node:events';

import { BootBreaker, backoffDelay } from '../restart/backoff.js';
import { fatalBootFailure, logBootFailure } from '../restart/boot-failure.js';
import { BootOutput } from '../restart/boot-output.js';
import { describeCause, typescriptHint } from '../restart/crash-cause.js';
import { SuperviseError } from '../errors.js';
import { checkScaleTarget } from '../config/option-parse.js';
import { createLogger, type Logger } from '../observe/logger.js';
import { type RawOptions, resolveOptions, type SupervisorOptions } from '../config/options.js';
import { type Balancer, balanceSharedSocket } from '../accept/balance.js';
import { startRecycler } from '../restart/recycle.js';
import { DrainSet, RolloutQueue, runRollout } from '../rollout/policy.js';
import { logDrained, logMasterReady, logRolloutEnd, mergeTriggers, rolloutSummary } from '../rollout/report.js';
import { setupCluster } from '../worker/cluster-setup.js';
import { startWatchdog } from '../restart/watchdog.js';
import { relaySocketIoAdapter } from '../worker/socketio-relay.js';
import type { StickyListener } from '../sticky/listener.js';
import { reachableUrls, servingBySlot } from '../sticky/serving.js';
import { exitReport, logCrash } from '../observe/exit-report.js';
import { type ExitInfo, type OutputStream, WorkerProcess } from '../worker/worker-process.js';
import { StopReport } from './stop-report.js';
import { workerEnv } from '../worker/env.js';
import { forkWorker } from '../worker/spawn.js';
import { readyRule } from '../worker/ready-rule.js';
import { logWorker } from '../worker/log.js';
import { plural } from '../observe/text.js';
import { reloadOptions, type SourceLimits } from '../config/reconfigure.js';
import { resolvedNow } from '../config/logical-cwd.js';
import { Replacer } from '../rollout/replacement.js';
import { WorkerInputs } from './worker-inputs.js';
import {
  cancelRestart,
  finishFilling,
  newSlot,
  resizeSlots,
  restartIn,
  type Slot,
  slotRolloutHost,
  startFilling,
  vacate,
  workerInfo,
} from './slot.js';
import type { Phase, RolloutSummary, SupervisorEvents, WorkerInfo } from './supervisor-types.js';
import type { WorkerState } from '../worker/state.js';

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
  private slots: Slot[] = [];
  private readonly workers = new Set<WorkerProcess>();
  private readonly breaker: BootBreaker;
  private readonly rollouts = new RolloutQueue<RolloutSummary>(() => this.runRollout());
  private readonly triggers: string[] = [];
  /** Every old worker on its way out after a rollout or a replacement: the draining bound counts these. */
  private readonly drains = new DrainSet();
  private startWaiter: { resolve: () => void; reject: (e: unknown) => void } | null = null;
  private fatalError: SuperviseError | null = null;
  private readonly bootOutput = new BootOutput((w) => this.causeOf(w));
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

  constructor(
    readonly options: SupervisorOptions,
    logger?: Logger,
  ) {
    super();
    this.log = logger ?? createLogger(options.logLevel, options.logFormat);
    this.breaker = new BootBreaker(options.crashLimit, options.crashWindowMs);
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
          serving: () => servingBySlot(this.slots, this.workers),
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
    this.slots = Array.from({ length: o.workers }, (_, index) => newSlot(index));
    for (const slot of this.slots) this.fill(slot);
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
    const urls = reachableUrls([...this.workers], this.sticky);
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
  reload(trigger = 'api'): Promise<RolloutSummary> {
    this.triggers.push(trigger);
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
    return this.options.maxDraining ?? this.slots.length;
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
    this.log.warn({ event: 'master.force-stop', workers: this.workers.size }, 'forced stop: killing every worker');
    for (const w of this.workers) void w.kill();
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
    await resizeSlots(this.slots, target, {
      log: this.log,
      options: this.options,
      fill: (slot) => this.fill(slot),
      drains: this.drains,
    });
  }

  /** Forwards a signal the master does not own to every worker (the SDK's onSignal()). */
  forwardSignal(signal: NodeJS.Signals): void {
    this.log.info({ event: 'signal.forward', signal }, `forwarding ${signal} to the workers`);
    for (const w of this.workers) w.forwardSignal(signal);
  }

  /** Every live worker, serving or not, ordered by slot. */
  status(): WorkerInfo[] {
    return [...this.workers].map((w) => this.info(w)).sort((a, b) => a.slot - b.slot || a.id - b.id);
  }

  get readyCount(): number {
    return this.slots.filter((s) => s.current?.state === 'ready').length;
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
    return [...this.workers];
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
    fork: (slot) => this.fork(slot, this.generation),
    readyTimeoutMs: () => this.options.readyTimeoutMs,
    running: () => this.phase === 'running',
    drains: this.drains,
    maxDraining: () => this.maxDraining,
    log: () => this.log,
    restartLater: (slot) => this.scheduleRestart(slot),
    slots: () => this.slots,
    rolloutBusy: () => this.rollouts.busy,
    rolloutIdle: () => this.rollouts.idle(),
  });

  // ---- slots, forks and restarts ----

  /**
   * Starts a worker process; rejects with a WorkerFailure ('spawn') when the process could not be started at
   * all: then there is no worker, and the caller treats it as a boot failure.
   */
  private async fork(slot: number, generation: number): Promise<WorkerProcess> {
    const o = this.options;
    const env = workerEnv(o, slot, generation, this.sticky?.workerEnv(), this.inputs.env);
    const timeouts = { drainTimeoutMs: o.drainTimeoutMs, killTimeoutMs: o.killTimeoutMs };
    // cluster.fork runs synchronously inside forkWorker, under the workers' node (inputs.fork sets it).
    const w = await this.inputs.fork(
      o.cwd,
      async () => new WorkerProcess(slot, generation, await forkWorker(env, o.cwd), timeouts),
    );
    const s = this.slots[slot];
    w.readyRule = readyRule(o, slot, s?.current?.listeningOn ?? s?.listening ?? [], env.PORT ?? process.env.PORT);
    this.bootOutput.forked(w);
    this.workers.add(w);
    this.sticky?.watch(w);
    logWorker(this.log, w);
    this.emit('worker:forked', this.info(w));
    w.on('state', (_from: WorkerState, to: WorkerState) => {
      if (to === 'ready') this.bootOutput.ready(w);
      if (to === 'ready' || to === 'draining') this.emit(`worker:${to}`, this.info(w));
    });
    w.on('line', (stream: OutputStream, line: string) =>
      this.emit('worker:output', { slot: w.slot, pid: w.pid }, stream, line),
    );
    w.on('self-drain', () => this.onSelfDrain(w));
    w.on('exit', (info: ExitInfo) => this.onExit(w, info));
    return w;
  }

  /** Starts a worker for an empty slot outside a rollout: first start, crash restart, scale up, self-drain. */
  private async fill(slot: Slot): Promise<void> {
    if (this.phase === 'stopping' || this.phase === 'stopped') return;
    if (!this.slots.includes(slot)) return;
    let w: WorkerProcess;
    try {
      w = await this.fork(slot.index, this.generation);
    } catch (err) {
      return this.onBootFailure(slot, null, err);
    }
    startFilling(slot, w);
    return w.waitReady(this.options.readyTimeoutMs).then(
      async () => {
        this.breaker.reset();
        // A stop, or a scale-down that removed the slot: the worker's own drain follows.
        if (this.phase === 'stopping' || !this.slots.includes(slot)) return void finishFilling(slot, w, false);
        // A rollout filled the slot meanwhile: this one is surplus.
        if (finishFilling(slot, w, true) === 'surplus') await w.drain('scale');
        else this.checkStarted();
      },
      async (err: unknown) => {
        finishFilling(slot, w, false);
        await w.end();
        this.onBootFailure(slot, w, err);
      },
    );
  }

  private checkStarted(): void {
    if (this.phase === 'starting' && this.slots.every((s) => s.current?.state === 'ready')) {
      this.startWaiter?.resolve();
      this.startWaiter = null;
    }
  }

  /** A worker that failed before it was ready, or (w null) a process that could not be started at all. */
  private onBootFailure(slot: Slot, w: WorkerProcess | null, err: unknown): void {
    if (this.phase === 'stopping' || this.phase === 'stopped') return;
    const cause = w ? this.causeOf(w) : null;
    const repeated = w ? this.bootOutput.failed(w, cause) : false;
    const full = logBootFailure(this.log, slot.index, w?.pid ?? null, err, cause, repeated);
    const fatal = fatalBootFailure(err, full, w?.lastLines ?? [], this.breaker, this.options.crashWindowMs);
    if (fatal) this.die(fatal, cause);
    else this.scheduleRestart(slot);
  }

  private scheduleRestart(slot: Slot): void {
    if (this.phase === 'stopping' || this.phase === 'stopped' || slot.restartTimer) return;
    const o = this.options;
    const delay = backoffDelay(slot.attempt++, o.restartDelayMs, o.restartDelayMaxMs);
    slot.restarts++;
    this.log.info(
      { event: 'worker.restart-scheduled', slot: slot.index, delayMs: delay, attempt: slot.attempt },
      `restarting slot ${slot.index} in ${delay} ms`,
    );
    restartIn(slot, delay, () => void this.fill(slot));
  }

  private onSelfDrain(w: WorkerProcess): void {
    const slot = this.slots.find((s) => s.current === w);
    if (!slot || this.phase !== 'running') return;
    vacate(slot, w);
    slot.restarts++;
    void this.fill(slot);
  }

  private onExit(w: WorkerProcess, info: ExitInfo): void {
    this.workers.delete(w);
    // A worker stopped while booting (not for a fatal error: that one was said) shows what it printed.
    this.bootOutput.exited(w, this.phase === 'stopping' && !this.fatalError);
    if (this.phase === 'stopping') this.stopReport.exit(w, info);
    const report = exitReport(w, info, this.options.killTimeoutMs);
    this.log[report.level](report.fields, report.message);
    this.emit('worker:exit', this.info(w), info);

    const slot = this.slots.find((s) => s.current === w);
    if (slot && w.readyAt !== null && w.listeningOn.length > 0) slot.listening = [...w.listeningOn];
    if (!slot || !vacate(slot, w)) return;
    if (info.intended || this.phase !== 'running') return;
    const uptime = w.readyAt ? Date.now() - w.readyAt : 0;
    if (uptime >= this.options.stableUptimeMs) slot.attempt = 0;
    logCrash(this.log, w, info, uptime);
    this.scheduleRestart(slot);
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

  // ---- rollouts ----

  private async runRollout(): Promise<RolloutSummary> {
    await this.replacer.idle();
    if (this.phase === 'starting') {
      // The code may have changed since the first workers were forked: roll once they are all up.
      this.log.info({ event: 'rollout.deferred' }, 'restart requested during boot: it runs once every worker is ready');
      await this.booting;
    }
    const trigger = mergeTriggers(this.triggers.splice(0));
    const notRun = { generation: this.generation, replaced: 0, durationMs: 0, draining: this.drains.count, trigger };
    if (this.phase !== 'running') return { ...notRun, outcome: 'aborted' };
    const refused = await this.reloadOptions();
    if (this.phase !== 'running') return { ...notRun, outcome: 'aborted' };
    if (refused !== null) return { ...notRun, outcome: 'invalid-config', configError: refused };
    const generation = ++this.generation;
    this.log.info(
      { event: 'rollout.start', generation, trigger, workers: this.slots.length },
      `rollout ${generation} started (${trigger})`,
    );
    this.emit('rollout:start', { generation, trigger });

    const host = slotRolloutHost({
      slots: () => this.slots,
      fork: (slot, gen) => this.fork(slot, gen),
      readyTimeoutMs: this.options.readyTimeoutMs,
      promoted: () => this.breaker.reset(),
      aborted: () => this.phase !== 'running',
    });
    const result = await runRollout(host, {
      generation,
      surge: this.options.surge,
      maxDraining: this.maxDraining,
      drains: this.drains,
    });
    const summary = rolloutSummary(
      result,
      trigger,
      (w) => this.info(w),
      (w) => this.causeOf(w),
    );
    const cause = summary.failure?.cause ?? null;
    if (result.failure?.worker) this.bootOutput.failed(result.failure.worker, cause);
    logRolloutEnd(this.log, { result, trigger, workers: this.slots.length, cause });
    this.emit(result.failure ? 'rollout:rolled-back' : 'rollout:done', summary);
    if (result.draining > 0) logDrained(this.log, this.drains.idle(), generation, Date.now() - result.durationMs);
    return summary;
  }

  /**
   * Before a rollout: re-reads the options (with a config file) and what they name (.env files, --node); returns
   * why they were refused (nothing changes then), or null.
   */
  private reloadOptions(): Promise<string | null> {
    return reloadOptions({
      source: this.optionsSource,
      signal: this.stopping.signal,
      inputs: this.inputs,
      options: this.options,
      log: this.log,
      slots: () => this.slots.length,
      scale: (n) => this.scale(n),
      changed: (keys) => this.emit('options:changed', keys),
    });
  }

  // ---- stop ----

  private async runStop(reason: 'stop' | 'rollout'): Promise<number> {
    const wasStarting = this.phase === 'starting';
    this.phase = 'stopping';
    this.stopping.abort();
    this.bootEnded?.();
    this.emit('stopping');
    this.sticky?.close();
    for (const slot of this.slots) cancelRestart(slot);
    const started = Date.now();
    this.log.info(
      { event: 'master.stopping', workers: this.workers.size },
      `stopping: draining ${plural(this.workers.size, 'worker')}`,
    );
    // A rollout in progress sees the phase and stops at its next step; new workers it started drain too.
    while (this.workers.size > 0) {
      await Promise.all([...this.workers].map((w) => w.drain(reason)));
      await this.rollouts.idle();
    }
    await this.rollouts.idle();
    // A stop during the boot forced nothing that had served.
    const code = this.stopReport.code(this.fatalError?.exitCode ?? null, wasStarting);
    this.phase = 'stopped';
    // start() is still waiting for its workers: it settles now, after the stop, rather than never.
    if (this.startWaiter) {
      this.startWaiter.reject(new SuperviseError('ERR_STOPPED', 'stopped before every worker was ready'));
      this.startWaiter = null;
    }
    this.stopReport.logStopped(this.log, code, Date.now() - started);
    this.emit('stopped', code);
    return code;
  }

  /** The one-line cause of a worker's failure: its first error line and the app's file:line (or a hint). */
  private causeOf(w: WorkerProcess): string | null {
    const lines = w.lastLines;
    // Stacks name the release (real paths), not the logical `current` the options hold.
    const cwd = resolvedNow(this.options.cwd) ?? this.options.cwd;
    return typescriptHint(this.options.script, this.options.nodeArgs, lines) ?? describeCause(lines, cwd);
  }

  private info(w: WorkerProcess): WorkerInfo {
    return workerInfo(w, this.slots[w.slot]?.restarts ?? 0);
  }
}

/** The programmatic API: validated options in, a supervisor out (not yet started). */
export function createSupervisor(raw: RawOptions & { logger?: Logger }): Supervisor {
  const { logger, ...rest } = raw;
  return new Supervisor(resolveOptions(rest), logger);
}
