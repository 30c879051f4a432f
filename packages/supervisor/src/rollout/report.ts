import { resolvedNow } from '../config/logical-cwd.js';
import type { Logger } from '../observe/logger.js';
import type { RolloutResult } from './policy.js';
import type { RolloutSummary, WorkerInfo } from '../master/supervisor-types.js';
import type { WorkerProcess } from '../worker/worker-process.js';
import { stillDraining } from '../observe/text.js';
import { WorkerFailure } from '../worker/state.js';
import { CanaryFailure, type CanaryReport } from './canary.js';

/**
 * The triggers of the requests one rollout serves, once each. A watch trigger lists its files after a colon:
 * it goes last, so that the other kinds stay readable.
 */
export function mergeTriggers(triggers: readonly string[]): string {
  const isWatch = (t: string) => Number(t.startsWith('watch:'));
  return [...new Set(triggers)].sort((a, b) => isWatch(a) - isWatch(b)).join(', ') || 'api';
}

/** The line a new user looks for first: where the app can be reached, and which pid to signal. */
export function logMasterReady(
  log: Logger,
  r: {
    workers: number;
    durationMs: number;
    accept: string;
    urls: string[];
    /** The working directory as given (`/srv/app/current`): the line names the release it resolves to now. */
    cwd: string;
    /** The workers: the line names their Node versions when they differ from the master's (`--node`). */
    running: readonly { node: string | null }[];
  },
): void {
  const { running, ...fields } = r;
  const release = resolvedNow(r.cwd);
  const nodes = nodeVersions(running);
  const where = release && release !== r.cwd ? `, ${r.cwd} -> ${release}` : '';
  const other = nodes.length && nodes.join() !== process.version ? `, workers on node ${nodes.join(', ')}` : '';
  log.info(
    { event: 'master.ready', ...fields, release, nodes },
    `${r.workers === 1 ? 'the worker is' : `all ${r.workers} workers are`} ready in ${r.durationMs} ms` +
      `${r.urls.length ? `: ${r.urls.join(', ')}` : ''} (master pid ${process.pid}, connections: ${r.accept}${where}${other})`,
  );
}

/** The distinct Node versions some workers reported (their hello), in the order first seen. */
export function nodeVersions(workers: readonly { node: string | null }[]): string[] {
  return [...new Set(workers.map((w) => w.node).filter((v): v is string => v !== null))];
}

/** What the log says at a rollout's end: one line, with the cause when it rolled back. */
export function logRolloutEnd(
  log: Logger,
  r: {
    result: RolloutResult<{ pid: number; slot: number; lastLines: string[] }>;
    trigger: string;
    workers: number;
    cause: string | null;
  },
): void {
  const { result, trigger, workers, cause } = r;
  const { generation } = result;
  const base = {
    event: 'rollout.end',
    generation,
    trigger,
    outcome: result.outcome,
    replaced: result.replaced,
    workers,
    durationMs: result.durationMs,
    draining: result.draining,
  };
  const draining = result.draining > 0 ? `; ${stillDraining(result.draining)}` : '';
  if (!result.failure) {
    log.info(
      base,
      `rollout ${generation} ${result.outcome}: ${result.replaced} of ${workers} workers replaced in ${result.durationMs} ms${draining}`,
    );
    return;
  }
  const { worker, error, slot } = result.failure;
  const why = error instanceof WorkerFailure ? error.reason : 'failed';
  const message = error instanceof Error ? error.message : String(error);
  // No worker: its process could not be started, and the message says why. A canary's verdict says it all.
  const lines = error instanceof CanaryFailure ? [] : (worker?.lastLines ?? []);
  log.error(
    { ...base, ...(worker ? { failedPid: worker.pid } : {}), failedSlot: slot, reason: why, cause, lastLines: lines },
    `rollout ${generation} rolled back after ${result.durationMs} ms: ${message}${cause ? `: ${cause}` : ''}; ` +
      `${result.replaced} of ${workers} workers replaced, the others keep serving${draining}` +
      (worker && lines.length ? `\n  last lines of worker ${worker.pid}:\n    ${lines.slice(-10).join('\n    ')}` : ''),
  );
}

/** Says when the old workers a rollout left draining have all exited (one line, for the pace and the logs). */
export function logDrained(log: Logger, drained: Promise<void>, generation: number, startedAt: number): void {
  void drained.then(() => {
    const durationMs = Date.now() - startedAt;
    log.info(
      { event: 'rollout.drained', generation, durationMs },
      `rollout ${generation}: every old worker has exited (${durationMs} ms after the rollout began)`,
    );
  });
}

/** The rollout's result as the API and the control socket give it: workers as WorkerInfo, a failure's cause. */
export function rolloutSummary(
  result: RolloutResult<WorkerProcess>,
  trigger: string,
  info: (w: WorkerProcess) => WorkerInfo,
  causeOf: (w: WorkerProcess) => string | null,
): RolloutSummary {
  const { failure, canary: report, ...fields } = result;
  const rest = { ...fields, ...(report === undefined ? {} : { canary: report as CanaryReport }) };
  if (!failure) return { ...rest, trigger };
  return {
    ...rest,
    trigger,
    failure: {
      ...failure,
      worker: failure.worker ? info(failure.worker) : null,
      cause: failure.worker ? causeOf(failure.worker) : null,
      lines: failure.worker?.lastLines ?? [],
    },
  };
}
