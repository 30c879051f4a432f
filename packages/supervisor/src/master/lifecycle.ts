import { BootBreaker, backoffDelay } from '../restart/backoff.js';
import { fatalBootFailure, logBootFailure } from '../restart/boot-failure.js';
import { BootOutput } from '../restart/boot-output.js';
import { describeCause, typescriptHint } from '../restart/crash-cause.js';
import type { SuperviseError } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import type { SupervisorOptions } from '../config/options.js';
import { resolvedNow } from '../config/logical-cwd.js';
import type { StickyListener } from '../sticky/listener.js';
import { exitReport, logCrash } from '../observe/exit-report.js';
import { type ExitInfo, type OutputStream, WorkerProcess } from '../worker/worker-process.js';
import { workerEnv } from '../worker/env/worker-env.js';
import { forkWorker } from '../worker/spawn.js';
import { readyRule } from '../worker/ready-rule.js';
import { logWorker } from '../worker/log.js';
import type { WorkerState } from '../worker/state.js';
import type { StopReport } from './stop-report.js';
import type { WorkerInputs } from './worker-inputs.js';
import { finishFilling, restartIn, type Slot, startFilling, vacate, workerInfo } from './slot.js';
import type { Phase, EmitSupervisorEvent, WorkerInfo } from './supervisor-types.js';

/** What the lifecycle reads from the master that owns it: its phase, its generation and where it reports. */
export interface LifecycleHost {
  readonly options: SupervisorOptions;
  readonly log: Logger;
  readonly inputs: WorkerInputs;
  readonly stopReport: StopReport;
  phase(): Phase;
  generation(): number;
  sticky(): StickyListener | null;
  fatal(): SuperviseError | null;
  readonly emit: EmitSupervisorEvent;
  /** A worker filled its slot during the boot: the master checks whether every slot is ready. */
  filled(): void;
  die(err: SuperviseError, cause: string | null): void;
}

/**
 * The workers' life outside a rollout: forks, the fill of an empty slot, boot failures, crash restarts with
 * backoff, self-drains and exits. It owns the slots and the set of live workers that the master reads.
 */
export class WorkerLifecycle {
  slots: Slot[] = [];
  readonly workers = new Set<WorkerProcess>();
  readonly breaker: BootBreaker;
  readonly bootOutput = new BootOutput((w) => this.causeOf(w));

  constructor(private readonly host: LifecycleHost) {
    this.breaker = new BootBreaker(host.options.crashLimit, host.options.crashWindowMs);
  }

  private get ending(): boolean {
    const phase = this.host.phase();
    return phase === 'stopping' || phase === 'stopped';
  }

  /**
   * Starts a worker process; rejects with a WorkerFailure ('spawn') when the process could not be started at
   * all: then there is no worker, and the caller treats it as a boot failure.
   */
  async fork(slot: number, generation: number): Promise<WorkerProcess> {
    const { options: o, inputs } = this.host;
    const sticky = this.host.sticky();
    const env = workerEnv(o, slot, generation, sticky?.workerEnv(), inputs.env);
    const timeouts = { drainTimeoutMs: o.drainTimeoutMs, killTimeoutMs: o.killTimeoutMs };
    // cluster.fork runs synchronously inside forkWorker, under the workers' node (inputs.fork sets it).
    const w = await inputs.fork(
      o.cwd,
      async () => new WorkerProcess(slot, generation, await forkWorker(env, o.cwd), timeouts),
    );
    const s = this.slots[slot];
    w.readyRule = readyRule(o, slot, s?.current?.listeningOn ?? s?.listening ?? [], env.PORT ?? process.env.PORT);
    this.bootOutput.forked(w);
    this.workers.add(w);
    sticky?.watch(w);
    logWorker(this.host.log, w);
    this.host.emit('worker:forked', this.info(w));
    w.on('state', (_from: WorkerState, to: WorkerState) => {
      if (to === 'ready') this.bootOutput.ready(w);
      if (to === 'ready' || to === 'draining') this.host.emit(`worker:${to}`, this.info(w));
    });
    w.on('line', (stream: OutputStream, line: string) =>
      this.host.emit('worker:output', { slot: w.slot, pid: w.pid }, stream, line),
    );
    w.on('self-drain', () => this.onSelfDrain(w));
    w.on('exit', (info: ExitInfo) => this.onExit(w, info));
    return w;
  }

  /** Starts a worker for an empty slot outside a rollout: first start, crash restart, scale up, self-drain. */
  async fill(slot: Slot): Promise<void> {
    if (this.ending) return;
    if (!this.slots.includes(slot)) return;
    let w: WorkerProcess;
    try {
      w = await this.fork(slot.index, this.host.generation());
    } catch (err) {
      return this.onBootFailure(slot, null, err);
    }
    startFilling(slot, w);
    return w.waitReady(this.host.options.readyTimeoutMs).then(
      async () => {
        this.breaker.reset();
        // A stop, or a scale-down that removed the slot: the worker's own drain follows.
        if (this.host.phase() === 'stopping' || !this.slots.includes(slot)) return void finishFilling(slot, w, false);
        // A rollout filled the slot meanwhile: this one is surplus.
        if (finishFilling(slot, w, true) === 'surplus') await w.drain('scale');
        else this.host.filled();
      },
      async (err: unknown) => {
        finishFilling(slot, w, false);
        await w.end();
        this.onBootFailure(slot, w, err);
      },
    );
  }

  scheduleRestart(slot: Slot): void {
    if (this.ending || slot.restartTimer) return;
    const o = this.host.options;
    const delay = backoffDelay(slot.attempt++, o.restartDelayMs, o.restartDelayMaxMs);
    slot.restarts++;
    this.host.log.info(
      { event: 'worker.restart-scheduled', slot: slot.index, delayMs: delay, attempt: slot.attempt },
      `restarting slot ${slot.index} in ${delay} ms`,
    );
    restartIn(slot, delay, () => void this.fill(slot));
  }

  /** The one-line cause of a worker's failure: its first error line and the app's file:line (or a hint). */
  causeOf(w: WorkerProcess): string | null {
    const o = this.host.options;
    const lines = w.lastLines;
    // Stacks name the release (real paths), not the logical `current` the options hold.
    const cwd = resolvedNow(o.cwd) ?? o.cwd;
    return typescriptHint(o.script, o.nodeArgs, lines) ?? describeCause(lines, cwd);
  }

  info(w: WorkerProcess): WorkerInfo {
    return workerInfo(w, this.slots[w.slot]?.restarts ?? 0);
  }

  /** A worker that failed before it was ready, or (w null) a process that could not be started at all. */
  private onBootFailure(slot: Slot, w: WorkerProcess | null, err: unknown): void {
    if (this.ending) return;
    const cause = w ? this.causeOf(w) : null;
    const repeated = w ? this.bootOutput.failed(w, cause) : false;
    const full = logBootFailure(this.host.log, slot.index, w?.pid ?? null, err, cause, repeated);
    const fatal = fatalBootFailure(err, full, w?.lastLines ?? [], this.breaker, this.host.options.crashWindowMs);
    if (fatal) this.host.die(fatal, cause);
    else this.scheduleRestart(slot);
  }

  private onSelfDrain(w: WorkerProcess): void {
    const slot = this.slots.find((s) => s.current === w);
    if (!slot || this.host.phase() !== 'running') return;
    vacate(slot, w);
    slot.restarts++;
    void this.fill(slot);
  }

  private onExit(w: WorkerProcess, info: ExitInfo): void {
    const { log, options } = this.host;
    const phase = this.host.phase();
    this.workers.delete(w);
    // A worker stopped while booting (not for a fatal error: that one was said) shows what it printed.
    this.bootOutput.exited(w, phase === 'stopping' && !this.host.fatal());
    if (phase === 'stopping') this.host.stopReport.exit(w, info);
    const report = exitReport(w, info, options.killTimeoutMs);
    log[report.level](report.fields, report.message);
    this.host.emit('worker:exit', this.info(w), info);

    const slot = this.slots.find((s) => s.current === w);
    if (slot && w.readyAt !== null && w.listeningOn.length > 0) slot.listening = [...w.listeningOn];
    if (!slot || !vacate(slot, w)) return;
    if (info.intended || this.host.phase() !== 'running') return;
    const uptime = w.readyAt ? Date.now() - w.readyAt : 0;
    if (uptime >= options.stableUptimeMs) slot.attempt = 0;
    logCrash(log, w, info, uptime);
    this.scheduleRestart(slot);
  }
}
