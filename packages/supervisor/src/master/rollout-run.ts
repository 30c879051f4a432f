import type { Logger } from '../observe/logger.js';
import type { SupervisorOptions } from '../config/options.js';
import { reloadOptions, type SourceLimits } from '../config/reconfigure.js';
import { type DrainSet, type RolloutHost, runRollout } from '../rollout/policy.js';
import type { WorkerProcess } from '../worker/worker-process.js';
import { logDrained, logRolloutEnd, mergeTriggers, rolloutSummary } from '../rollout/report.js';
import type { WorkerInputs } from './worker-inputs.js';
import type { WorkerLifecycle } from './lifecycle.js';
import { slotRolloutHost } from './slot.js';
import type { Phase, RolloutSummary, EmitSupervisorEvent } from './supervisor-types.js';

/** What one rollout reads and changes on the master. */
export interface RolloutMaster {
  readonly options: SupervisorOptions;
  readonly log: Logger;
  readonly life: WorkerLifecycle;
  readonly drains: DrainSet;
  readonly inputs: WorkerInputs;
  readonly optionsSource: ((limits: SourceLimits) => Promise<SupervisorOptions>) | null;
  readonly stopSignal: AbortSignal;
  phase(): Phase;
  generation(): number;
  nextGeneration(): number;
  maxDraining(): number;
  /** The triggers asked for since the last rollout began, taken (the list is emptied). */
  takeTriggers(): string[];
  replacerIdle(): Promise<void>;
  /** Settles when the boot ends. */
  booting(): Promise<void>;
  scale(target: number): Promise<void>;
  /** The canary phase's gate around the rollout host (a pass-through when no canary bakes). */
  canaryGate(host: RolloutHost<WorkerProcess>, generation: number): RolloutHost<WorkerProcess>;
  canaryChoice(trigger: string): number;
  readonly emit: EmitSupervisorEvent;
}

/**
 * One rollout, as the master's queue runs it: waits out a replacement and the boot, re-reads the options (a
 * refused config rolls nothing), then replaces every slot under the surge and draining bounds.
 */
export async function runMasterRollout(m: RolloutMaster): Promise<RolloutSummary> {
  const { life, log } = m;
  await m.replacerIdle();
  if (m.phase() === 'starting') {
    // The code may have changed since the first workers were forked: roll once they are all up.
    log.info({ event: 'rollout.deferred' }, 'restart requested during boot: it runs once every worker is ready');
    await m.booting();
  }
  const trigger = mergeTriggers(m.takeTriggers());
  const notRun = { generation: m.generation(), replaced: 0, durationMs: 0, draining: m.drains.count, trigger };
  if (m.phase() !== 'running') return { ...notRun, outcome: 'aborted' };
  const refused = await reloadMasterOptions(m);
  if (m.phase() !== 'running') return { ...notRun, outcome: 'aborted' };
  if (refused !== null) return { ...notRun, outcome: 'invalid-config', configError: refused };
  const generation = m.nextGeneration();
  log.info(
    { event: 'rollout.start', generation, trigger, workers: life.slots.length },
    `rollout ${generation} started (${trigger})`,
  );
  m.emit('rollout:start', { generation, trigger });

  const host = slotRolloutHost({
    slots: () => life.slots,
    fork: (slot, gen) => life.fork(slot, gen),
    readyTimeoutMs: m.options.readyTimeoutMs,
    promoted: () => life.breaker.reset(),
    aborted: () => m.phase() !== 'running',
  });
  const result = await runRollout(m.canaryGate(host, generation), {
    generation,
    surge: m.options.surge,
    maxDraining: m.maxDraining(),
    drains: m.drains,
    canary: m.canaryChoice(trigger),
  });
  const summary = rolloutSummary(
    result,
    trigger,
    (w) => life.info(w),
    (w) => life.causeOf(w),
  );
  const cause = summary.failure?.cause ?? null;
  if (result.failure?.worker) life.bootOutput.failed(result.failure.worker, cause);
  logRolloutEnd(log, { result, trigger, workers: life.slots.length, cause });
  m.emit(result.failure ? 'rollout:rolled-back' : 'rollout:done', summary);
  if (result.draining > 0) logDrained(log, m.drains.idle(), generation, Date.now() - result.durationMs);
  return summary;
}

/**
 * Before a rollout: re-reads the options (with a config file) and what they name (.env files, --node); returns
 * why they were refused (nothing changes then), or null.
 */
function reloadMasterOptions(m: RolloutMaster): Promise<string | null> {
  return reloadOptions({
    source: m.optionsSource,
    signal: m.stopSignal,
    inputs: m.inputs,
    options: m.options,
    log: m.log,
    slots: () => m.life.slots.length,
    scale: (n) => m.scale(n),
    changed: (keys) => m.emit('options:changed', keys),
  });
}
