import cluster from 'node:cluster';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';

import { type DrainStats, ENV, PROTOCOL_VERSION } from '@supervise/worker-sdk/protocol';

import { acceptStrategy } from './accept/index.js';
import { BootBreaker, backoffDelay } from './backoff.js';
import { describeCause, typescriptHint } from './crash-cause.js';
import { EXIT, SuperviseError } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import { type RawOptions, resolveOptions, type SupervisorOptions } from './options.js';
import { startRecycler } from './recycle.js';
import { DrainSet, type RolloutHost, RolloutQueue, type RolloutResult, runRollout } from './rollout.js';
import { startWatchdog } from './watchdog.js';
import { type ExitInfo, WorkerProcess } from './worker.js';
import { WorkerFailure, type WorkerState } from './worker-state.js';

export type Phase = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface WorkerInfo {
  id: number;
  slot: number;
  pid: number;
  generation: number;
  state: WorkerState;
  uptimeMs: number;
  restarts: number;
  requests: number;
  inFlight: number;
  usesSdk: boolean;
}

/** A rollout's result; a failure also carries its one-line cause and the failed worker's last lines. */
export type RolloutSummary = Omit<RolloutResult<WorkerInfo>, 'failure'> & {
  trigger: string;
  failure?: { slot: number; worker: WorkerInfo; error: unknown; cause: string | null; lines: string[] };
};

export interface SupervisorEvents {
  'worker:forked': [WorkerInfo];
  'worker:ready': [WorkerInfo];
  'worker:draining': [WorkerInfo];
  'worker:exit': [WorkerInfo, ExitInfo];
  /** A line a worker printed; the CLI passes it through, tagged with the worker's slot and pid. */
  'worker:output': [{ slot: number; pid: number }, 'stdout' | 'stderr', string];
  'rollout:start': [{ generation: number; trigger: string }];
  'rollout:done': [RolloutSummary];
  'rollout:rolled-back': [RolloutSummary];
  fatal: [SuperviseError];
  stopping: [];
  stopped: [number];
}

interface Slot {
  index: number;
  current: WorkerProcess | null;
  /** A worker starting to fill the slot outside a rollout (first start, crash restart, scale up). */
  filling: WorkerProcess | null;
  attempt: number;
  restarts: number;
  restartTimer: NodeJS.Timeout | null;
}

// `bind EADDRINUSE 127.0.0.1:3000`, `listen EADDRINUSE: address already in use :::3000`: the port is the last `:digits`.
const PORT_IN_USE = /EADDRINUSE\b(?:[^\n]*?[\w.[\]-]*:(\d+)\b)?/;

/**
 * The master: slots of workers, their restarts, rollouts and the stop. One instance per process (node:cluster
 * has one primary). Producers of restarts (signals, file changes, control commands, recycling) all end in
 * reload(); everything that changes a worker's state is logged with the worker's slot, pid and generation.
 */
export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly options: SupervisorOptions;
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
  /** The cause of the last boot failure, until a worker boots: a repeat of it is not printed again. */
  private lastBootCause: string | null = null;
  /** The booting worker whose output streams live while others boot beside it (see fork). */
  private streamingBoot: WorkerProcess | null = null;
  /** Workers that failed while the live one still booted: shown or dropped once its outcome is known. */
  private waitingOutput: { w: WorkerProcess; cause: string | null }[] = [];
  private stopPromise: Promise<number> | null = null;
  private forcedExits = 0;
  /** The replacement in progress (recycling, watchdog); rollouts wait for it. */
  private replacing: Promise<boolean> | null = null;
  /** Settles when the boot ends (every worker ready, or a stop began): a restart asked for during boot waits. */
  private booting: Promise<void> = Promise.resolve();
  private bootEnded: (() => void) | null = null;

  constructor(options: SupervisorOptions, logger?: Logger) {
    super();
    this.options = options;
    this.log = logger ?? createLogger(options.logLevel, options.logFormat);
    this.breaker = new BootBreaker(options.crashLimit, options.crashWindowMs);
  }

  /** Forks every slot and resolves once all are ready; rejects (after stopping) when they cannot boot. */
  async start(): Promise<void> {
    if (this.phase !== 'idle') throw new Error('supervisor already started');
    if (!cluster.isPrimary) throw new Error('createSupervisor() must run in the primary process');
    const o = this.options;
    // node:cluster reads its scheduler at the first setupPrimary()/fork(): once per process, before any worker.
    cluster.schedulingPolicy = acceptStrategy(o.accept).schedulingPolicy;
    cluster.setupPrimary({
      exec: o.script,
      args: o.args,
      execArgv: [...o.nodeArgs, '--require', preloadPath()],
      silent: true,
      cwd: o.cwd,
    });
    this.phase = 'starting';
    this.generation = 1;
    this.log.info(
      { event: 'master.start', script: o.script, workers: o.workers, autoDrain: o.autoDrain, accept: o.accept },
      `starting ${o.workers} worker${o.workers === 1 ? '' : 's'} of ${o.script}`,
    );
    const started = Date.now();
    const ready = new Promise<void>((resolve, reject) => (this.startWaiter = { resolve, reject }));
    this.booting = new Promise<void>((resolve) => (this.bootEnded = resolve));
    this.slots = Array.from({ length: o.workers }, (_, index) => this.newSlot(index));
    for (const slot of this.slots) this.fill(slot);
    try {
      await ready;
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.phase = 'running';
    startWatchdog(this);
    startRecycler(this);
    this.log.info(
      { event: 'master.ready', workers: o.workers, durationMs: Date.now() - started, accept: o.accept },
      `${o.workers === 1 ? 'the worker is' : `all ${o.workers} workers are`} ready (${Date.now() - started} ms; connections: ${o.accept})`,
    );
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

  /** Resolves when every old worker that was draining (after rollouts, replacements) has exited. */
  drained(): Promise<void> {
    return this.drains.idle();
  }

  /** How many old workers are draining now. */
  get drainingCount(): number {
    return this.drains.count;
  }

  /** The draining bound in force: --max-draining, else the number of workers. */
  get maxDraining(): number {
    return this.options.maxDraining ?? this.slots.length;
  }

  /** Graceful stop: every worker drains in parallel. Resolves with the exit code the master should use. */
  stop(): Promise<number> {
    this.stopPromise ??= this.runStop();
    return this.stopPromise;
  }

  /** The second SIGINT/SIGTERM: kill everything now. */
  forceStop(): void {
    this.log.warn({ event: 'master.force-stop', workers: this.workers.size }, 'forced stop: killing every worker');
    for (const w of this.workers) void w.kill();
  }

  /** Changes the number of slots; scaling down drains the highest slots (newest slots go first). */
  async scale(target: number): Promise<void> {
    if (this.phase !== 'running') throw new SuperviseError('ERR_CONTROL', `cannot scale while ${this.phase}`);
    if (!Number.isInteger(target) || target < 1) throw new SuperviseError('ERR_USAGE', 'scale: the target must be at least 1');
    if (target > 1024) throw new SuperviseError('ERR_USAGE', `scale: at most 1024 workers, got ${target}`);
    await this.rollouts.idle();
    const before = this.slots.length;
    this.options.workers = target;
    this.log.info({ event: 'scale', from: before, to: target }, `scaling from ${before} to ${target} workers`);
    if (target > before) {
      const added = Array.from({ length: target - before }, (_, k) => this.newSlot(before + k));
      this.slots.push(...added);
      await Promise.all(added.map((slot) => this.fill(slot)));
    } else {
      const removed = this.slots.splice(target);
      await Promise.all(
        removed.map((slot) => {
          if (slot.restartTimer) clearTimeout(slot.restartTimer);
          const ws = [slot.current, slot.filling].filter((w): w is WorkerProcess => w !== null);
          slot.current = slot.filling = null;
          return Promise.all(
            ws.map((w) => {
              const exit = w.drain('scale');
              this.drains.add(exit);
              return exit;
            }),
          );
        }),
      );
    }
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
  async replace(worker: WorkerProcess, why: string, { kill = false } = {}): Promise<boolean> {
    const slot = this.slots.find((s) => s.current === worker);
    if (!slot || this.phase !== 'running') return false;
    this.log.warn(
      { event: 'worker.replace', slot: slot.index, pid: worker.pid, reason: why },
      `replacing worker ${worker.pid} (slot ${slot.index}): ${why}`,
    );
    while (this.rollouts.busy || this.replacing) await (this.replacing ?? this.rollouts.idle());
    if (slot.current !== worker || this.phase !== 'running') return false;
    const job = this.replaceNow(slot, worker, kill);
    this.replacing = job;
    try {
      return await job;
    } finally {
      if (this.replacing === job) this.replacing = null;
    }
  }

  private async replaceNow(slot: Slot, worker: WorkerProcess, kill: boolean): Promise<boolean> {
    // A hung worker goes at once; a recycled one waits until its drain fits under the bound.
    if (!kill) await this.drains.room(this.maxDraining, 1);
    if (slot.current !== worker || this.phase !== 'running') return false;
    const fresh = this.fork(slot.index, this.generation);
    try {
      await fresh.waitReady(this.options.readyTimeoutMs);
    } catch (err) {
      await fresh.kill();
      const message = err instanceof Error ? err.message : String(err);
      this.log.error(
        { event: 'worker.replace-failed', slot: slot.index, pid: worker.pid, failedPid: fresh.pid, reason: message, lastLines: fresh.lastLines },
        `replacement of worker ${worker.pid} failed: ${message}${kill ? '' : '; it keeps serving'}`,
      );
      if (kill && slot.current === worker) {
        // A hung worker goes anyway; its slot refills through the crash path (backoff, breaker).
        slot.current = null;
        await worker.kill();
        this.scheduleRestart(slot);
      }
      return false;
    }
    if (slot.current !== worker || this.phase !== 'running') {
      await fresh.drain('scale');
      return false;
    }
    slot.current = fresh;
    this.drains.add(kill ? worker.kill() : worker.drain('recycle'));
    return true;
  }

  // ---- slots, forks and restarts ----

  private newSlot(index: number): Slot {
    return { index, current: null, filling: null, attempt: 0, restarts: 0, restartTimer: null };
  }

  private fork(slot: number, generation: number): WorkerProcess {
    const o = this.options;
    const env: Record<string, string> = {
      ...acceptStrategy(o.accept).workerEnv(),
      ...o.env,
      [ENV.worker]: String(PROTOCOL_VERSION),
      [ENV.slot]: String(slot),
      [ENV.generation]: String(generation),
      [ENV.drainTimeout]: String(o.drainTimeoutMs),
      [ENV.idleGrace]: String(o.idleGrace),
      [ENV.heartbeat]: String(o.heartbeatMs),
      [ENV.autoDrain]: o.autoDrain ? '1' : '0',
    };
    const w = new WorkerProcess(slot, generation, env, {
      drainTimeoutMs: o.drainTimeoutMs,
      killTimeoutMs: o.killTimeoutMs,
    });
    // While workers boot side by side, one streams its output live; the others' is shown once they are ready,
    // or once they fail in another way than a failure already shown (a crash loop prints its stack once).
    if (this.lastBootCause !== null || this.streamingBoot?.state === 'starting') w.holdOutput();
    else this.streamingBoot = w;
    this.workers.add(w);
    const fields = () => ({ slot: w.slot, pid: w.pid, worker: w.id, generation: w.generation });
    this.log.info({ event: 'worker.fork', ...fields() }, `worker ${w.pid} forked (slot ${slot}, generation ${generation})`);
    this.emit('worker:forked', this.info(w));
    w.on('state', (from: WorkerState, to: WorkerState) => {
      if (to === 'exited') return; // logged with its exit status below
      const extra =
        to === 'draining' && w.drainReason
          ? { reason: w.drainReason }
          : // How this worker will drain: its own SDK, the preloaded engine, or disconnect + signals.
            to === 'ready'
            ? { drain: w.usesSdk ? 'sdk' : w.capable ? 'preload' : 'none' }
            : {};
      this.log.info(
        { event: 'worker.state', from, to, ...fields(), ...extra },
        `worker ${w.pid} ${from} -> ${to}${w.drainReason && to === 'draining' ? ` (${w.drainReason})` : ''}`,
      );
      if (to === 'ready') {
        w.releaseOutput();
        this.lastBootCause = null;
        if (w === this.streamingBoot) this.settleWaitingOutput(null);
        this.emit('worker:ready', this.info(w));
      }
      if (to === 'draining') this.emit('worker:draining', this.info(w));
    });
    w.on('line', (stream: 'stdout' | 'stderr', line: string) => this.emit('worker:output', { slot: w.slot, pid: w.pid }, stream, line));
    w.on('self-drain', () => this.onSelfDrain(w));
    w.on('listen-error', (message: string) =>
      this.log.warn({ event: 'worker.listen-error', ...fields(), reason: message }, `worker ${w.pid} could not listen: ${message}`),
    );
    w.on('exit', (info: ExitInfo) => this.onExit(w, info));
    return w;
  }

  /** Starts a worker for an empty slot outside a rollout: first start, crash restart, scale up, self-drain. */
  private fill(slot: Slot): Promise<void> {
    slot.restartTimer = null;
    if (this.phase === 'stopping' || this.phase === 'stopped') return Promise.resolve();
    if (!this.slots.includes(slot)) return Promise.resolve();
    const w = this.fork(slot.index, this.generation);
    slot.filling = w;
    return w.waitReady(this.options.readyTimeoutMs).then(
      async () => {
        if (slot.filling === w) slot.filling = null;
        this.breaker.reset();
        if (this.phase === 'stopping' || !this.slots.includes(slot)) return;
        if (slot.current && slot.current !== w) {
          // A rollout filled the slot meanwhile: this one is surplus.
          await w.drain('scale');
          return;
        }
        slot.current = w;
        this.checkStarted();
      },
      async (err: unknown) => {
        if (slot.filling === w) slot.filling = null;
        await endFailed(w);
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

  private onBootFailure(slot: Slot, w: WorkerProcess, err: unknown): void {
    if (this.phase === 'stopping' || this.phase === 'stopped') return;
    const lines = w.lastLines;
    const reason = err instanceof Error ? err.message : String(err);
    const cause = this.causeOf(w);
    const full = cause ? `${reason}: ${cause}` : reason;
    const repeated = this.showFailedOutput(w, cause);
    // The last lines go with the fatal line, if it comes to that (once, not once per failed worker).
    this.log.error(
      { event: 'worker.boot-failed', slot: slot.index, pid: w.pid, reason, cause },
      `worker ${w.pid} (slot ${slot.index}) failed at boot: ${full}${repeated ? ' (as before; its output is not repeated)' : ''}`,
    );
    if (err instanceof WorkerFailure && err.reason === 'protocol') {
      this.die(new SuperviseError('ERR_PROTOCOL', reason, lines), null);
      return;
    }
    const text = [reason, ...lines].join('\n');
    const port = PORT_IN_USE.exec(text);
    if (port) {
      // A long stack can push the `EADDRINUSE 127.0.0.1:3000` line out of the tail; the error's fields stay.
      const number = port[1] ?? /^\s*port: (\d+),?$/m.exec(text)?.[1];
      const where = number ? `port ${number}` : 'the port';
      this.die(new SuperviseError('ERR_PORT_IN_USE', `${where} is already in use (EADDRINUSE): is another instance running?`, lines), cause);
      return;
    }
    if (this.breaker.record()) {
      this.die(
        new SuperviseError(
          'ERR_BOOT_FAILURE',
          `workers keep failing before they are ready (${this.breaker.count} times within ${this.options.crashWindowMs} ms): ${full}`,
          lines,
        ),
        cause,
      );
      return;
    }
    this.scheduleRestart(slot);
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
    slot.restartTimer = setTimeout(() => void this.fill(slot), delay);
  }

  private onSelfDrain(w: WorkerProcess): void {
    const slot = this.slots.find((s) => s.current === w);
    if (!slot || this.phase !== 'running') return;
    slot.current = null;
    slot.restarts++;
    void this.fill(slot);
  }

  private onExit(w: WorkerProcess, info: ExitInfo): void {
    this.workers.delete(w);
    // A worker stopped while booting (not for a fatal error: that one was said) shows what it printed.
    if (this.phase === 'stopping' && !this.fatalError) w.releaseOutput();
    // The live booting worker is gone: what it printed is what was shown.
    if (w === this.streamingBoot) this.settleWaitingOutput(this.causeOf(w));
    const how = info.signal ? `signal ${info.signal}` : `code ${info.code}`;
    const stats = info.stats;
    const forced = info.killed || (stats !== null && stats.forced > 0);
    // A worker that never served (killed while booting) lost nothing: it does not make the stop "forced".
    if (forced && this.phase === 'stopping' && w.readyAt !== null) this.forcedExits++;
    const fields = {
      event: 'worker.exit',
      slot: w.slot,
      pid: w.pid,
      worker: w.id,
      generation: w.generation,
      code: info.code,
      signal: info.signal,
      intended: info.intended,
      killed: info.killed,
      ...(stats ? { drain: stats } : {}),
    };
    if (info.killed) {
      this.log.warn(
        fields,
        w.timedOut
          ? `worker ${w.pid} killed after ${this.options.killTimeoutMs} ms: it did not exit in time`
          : `worker ${w.pid} killed (SIGKILL)`,
      );
    } else if (stats) {
      const forcedNote = stats.forced > 0 ? describeForced(stats.forcedKinds) : '';
      this.log.info(
        fields,
        `worker ${w.pid} drained in ${stats.durationMs} ms (${stats.requestsCompleted} requests completed, ` +
          `${stats.finished + stats.closedIdle + stats.closedLongLived} connections closed${forcedNote}) and exited with ${how}`,
      );
    } else {
      this.log[info.intended ? 'info' : 'warn'](fields, `worker ${w.pid} exited with ${how}`);
    }
    this.emit('worker:exit', this.info(w), info);

    const slot = this.slots.find((s) => s.current === w);
    if (!slot) return;
    slot.current = null;
    if (info.intended || this.phase !== 'running') return;
    const uptime = w.readyAt ? Date.now() - w.readyAt : 0;
    if (uptime >= this.options.stableUptimeMs) slot.attempt = 0;
    this.log.error(
      { event: 'worker.crash', slot: slot.index, pid: w.pid, code: info.code, signal: info.signal, uptimeMs: uptime, lastLines: w.lastLines },
      `worker ${w.pid} (slot ${slot.index}) crashed with ${how} after ${uptime} ms`,
    );
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
    while (this.replacing) await this.replacing;
    if (this.phase === 'starting') {
      // The code may have changed since the first workers were forked: roll once they are all up.
      this.log.info({ event: 'rollout.deferred' }, 'restart requested during boot: it runs once every worker is ready');
      await this.booting;
    }
    const trigger = [...new Set(this.triggers.splice(0))].join(', ') || 'api';
    if (this.phase !== 'running') {
      return { generation: this.generation, outcome: 'aborted', replaced: 0, durationMs: 0, draining: this.drains.count, trigger };
    }
    const generation = ++this.generation;
    this.log.info({ event: 'rollout.start', generation, trigger, workers: this.slots.length }, `rollout ${generation} started (${trigger})`);
    this.emit('rollout:start', { generation, trigger });

    const host: RolloutHost<WorkerProcess> = {
      slots: () => this.slots.map((s) => s.index),
      current: (i) => this.slots[i]?.current ?? null,
      start: (i, gen) => {
        const slot = this.slots[i];
        if (slot?.restartTimer) {
          clearTimeout(slot.restartTimer);
          slot.restartTimer = null;
        }
        return this.fork(i, gen);
      },
      waitReady: (w) => w.waitReady(this.options.readyTimeoutMs),
      promote: (i, w) => {
        const slot = this.slots[i];
        if (slot) slot.current = w;
        this.breaker.reset();
      },
      retire: async (w) => {
        await w.drain('rollout');
      },
      discard: async (w) => {
        await endFailed(w);
      },
      aborted: () => this.phase !== 'running',
    };
    const result = await runRollout(host, {
      generation,
      surge: this.options.surge,
      maxDraining: this.maxDraining,
      drains: this.drains,
    });
    const { failure: rawFailure, ...rest } = result;
    const summary: RolloutSummary = {
      ...rest,
      trigger,
      ...(rawFailure
        ? { failure: { ...rawFailure, worker: this.info(rawFailure.worker), cause: this.causeOf(rawFailure.worker), lines: rawFailure.worker.lastLines } }
        : {}),
    };
    const base = {
      event: 'rollout.end',
      generation,
      trigger,
      outcome: result.outcome,
      replaced: result.replaced,
      workers: this.slots.length,
      durationMs: result.durationMs,
      draining: result.draining,
    };
    const stillDraining =
      result.draining > 0 ? `; ${result.draining} old worker${result.draining === 1 ? ' is' : 's are'} still draining` : '';
    if (result.failure) {
      const { worker, error } = result.failure;
      const why = error instanceof WorkerFailure ? error.reason : 'failed';
      const message = error instanceof Error ? error.message : String(error);
      const cause = summary.failure?.cause ?? null;
      this.showFailedOutput(worker, cause);
      this.log.error(
        { ...base, failedPid: worker.pid, failedSlot: worker.slot, reason: why, cause, lastLines: worker.lastLines },
        `rollout ${generation} rolled back after ${result.durationMs} ms: ${message}${cause ? `: ${cause}` : ''}; ` +
          `${result.replaced} of ${this.slots.length} workers replaced, the others keep serving${stillDraining}` +
          (worker.lastLines.length ? `\n  last lines of worker ${worker.pid}:\n    ${worker.lastLines.slice(-10).join('\n    ')}` : ''),
      );
      this.emit('rollout:rolled-back', summary);
    } else {
      this.log.info(
        base,
        `rollout ${generation} ${result.outcome}: ${result.replaced} of ${this.slots.length} workers replaced in ${result.durationMs} ms${stillDraining}`,
      );
      this.emit('rollout:done', summary);
    }
    if (result.draining > 0) this.logDrained(generation, Date.now() - result.durationMs);
    return summary;
  }

  /** Says when the old workers a rollout left draining have all exited (one line, for the pace and the logs). */
  private logDrained(generation: number, startedAt: number): void {
    void this.drains.idle().then(() => {
      const durationMs = Date.now() - startedAt;
      this.log.info(
        { event: 'rollout.drained', generation, durationMs },
        `rollout ${generation}: every old worker has exited (${durationMs} ms after the rollout began)`,
      );
    });
  }

  // ---- stop ----

  private async runStop(): Promise<number> {
    const wasStarting = this.phase === 'starting';
    this.phase = 'stopping';
    this.bootEnded?.();
    this.emit('stopping');
    for (const slot of this.slots) {
      if (slot.restartTimer) clearTimeout(slot.restartTimer);
      slot.restartTimer = null;
    }
    const started = Date.now();
    this.log.info({ event: 'master.stopping', workers: this.workers.size }, `stopping: draining ${this.workers.size} workers`);
    // A rollout in progress sees the phase and stops at its next step; new workers it started drain too.
    while (this.workers.size > 0) {
      await Promise.all([...this.workers].map((w) => w.drain('stop')));
      await this.rollouts.idle();
    }
    await this.rollouts.idle();
    const code = this.fatalError
      ? this.fatalError.exitCode
      : this.forcedExits > 0 && !wasStarting
        ? EXIT.forced
        : EXIT.ok;
    this.phase = 'stopped';
    // start() is still waiting for its workers: it settles now, after the stop, rather than never.
    if (this.startWaiter) {
      this.startWaiter.reject(new SuperviseError('ERR_STOPPED', 'stopped before every worker was ready'));
      this.startWaiter = null;
    }
    this.log.info(
      { event: 'master.stopped', exitCode: code, durationMs: Date.now() - started },
      `stopped in ${Date.now() - started} ms, exit code ${code}`,
    );
    this.emit('stopped', code);
    return code;
  }

  /**
   * A worker failed before it was ready: its held output is shown, unless it failed the same way as the last
   * failure shown (the same stack again). Returns true for such a repeat.
   */
  private showFailedOutput(w: WorkerProcess, cause: string | null): boolean {
    const repeated = cause !== null && cause === this.lastBootCause;
    if (this.streamingBoot && this.streamingBoot !== w && !repeated) {
      // The live one is still booting (or its own failure is on its way): it may show this very cause.
      this.waitingOutput.push({ w, cause });
      return false;
    }
    this.lastBootCause = cause;
    if (repeated) w.discardOutput();
    else w.releaseOutput();
    return repeated;
  }

  /** The live booting worker is ready (shown: null) or failed with `shown`: decide for those that waited. */
  private settleWaitingOutput(shown: string | null): void {
    this.streamingBoot = null;
    for (const { w, cause } of this.waitingOutput.splice(0)) {
      if (cause !== null && cause === shown) w.discardOutput();
      else w.releaseOutput();
    }
  }

  /** The one-line cause of a worker's failure: its first error line and the app's file:line (or a hint). */
  private causeOf(w: WorkerProcess): string | null {
    const lines = w.lastLines;
    return typescriptHint(this.options.script, this.options.nodeArgs, lines) ?? describeCause(lines, this.options.cwd);
  }

  private info(w: WorkerProcess): WorkerInfo {
    const slot = this.slots[w.slot];
    return {
      id: w.id,
      slot: w.slot,
      pid: w.pid,
      generation: w.generation,
      state: w.state,
      uptimeMs: Date.now() - w.startedAt,
      restarts: slot?.restarts ?? 0,
      requests: w.requests,
      inFlight: w.inFlight,
      usesSdk: w.usesSdk,
    };
  }
}

function describeForced(kinds: DrainStats['forcedKinds']): string {
  const parts = Object.entries(kinds)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k === 'upgraded' ? 'upgraded (not WebSocket)' : k}`);
  // The engine closes WebSockets, event streams and HTTP/2 sessions itself; a raw protocol only the app knows.
  const hint =
    kinds.upgraded > 0 || kinds.raw > 0 ? '; close raw protocol connections in an onDrain hook (worker SDK)' : '';
  return `, forced at the deadline: ${parts.join(', ')}${hint}`;
}

/**
 * Ends a worker that failed to become ready or is no longer wanted. One already draining (a stop began while it
 * booted) may hold a connection: its drain finishes, bounded by the kill timeout. Anything else is killed.
 */
function endFailed(w: WorkerProcess): Promise<ExitInfo> {
  return w.state === 'draining' ? w.exited : w.kill();
}

function preloadPath(): string {
  return createRequire(import.meta.url).resolve('@supervise/worker-sdk/preload');
}

/** The programmatic API: validated options in, a supervisor out (not yet started). */
export function createSupervisor(raw: RawOptions & { logger?: Logger }): Supervisor {
  const { logger, ...rest } = raw;
  return new Supervisor(resolveOptions(rest), logger);
}
