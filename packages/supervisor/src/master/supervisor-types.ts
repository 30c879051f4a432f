import type { EventEmitter } from 'node:events';

import type { SuperviseError } from '../errors.js';
import type { SupervisorOptions } from '../config/options.js';
import type { RolloutResult } from '../rollout/policy.js';
import type { CanaryReport } from '../rollout/canary.js';
import type { ExitInfo, LoadView } from '../worker/worker-process.js';
import type { WorkerState } from '../worker/state.js';

/** The supervisor's public shapes: what its API returns and what its events carry. */
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
  /** The directory it runs in: the release a logical cwd (`current`) resolved to when it was forked. */
  release: string | null;
  /** Its Node version, as it reported it (null: no SDK or preload in it to say). */
  node: string | null;
  /** From the heartbeats: memory, CPU, request rate, event loop (null before the second beat, or without). */
  load: LoadView | null;
}

/**
 * A rollout's result; a failure also carries its one-line cause and the failed worker's last lines.
 * `invalid-config`: the config file, re-read for the reload, was refused (`configError` says why); nothing rolled.
 */
export type RolloutSummary = Omit<RolloutResult<WorkerInfo>, 'failure' | 'outcome' | 'canary'> & {
  outcome: RolloutResult<WorkerInfo>['outcome'] | 'invalid-config';
  /** How the canary's bake ended, when the rollout had one. */
  canary?: CanaryReport;
  trigger: string;
  /** `worker` is null when the replacement's process could not be started (the error says why). */
  failure?: { slot: number; worker: WorkerInfo | null; error: unknown; cause: string | null; lines: string[] };
  configError?: string;
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
  /** A reload re-read the options (the CLI's config file) and applied these keys. */
  'options:changed': [(keyof SupervisorOptions)[]];
  fatal: [SuperviseError];
  stopping: [];
  stopped: [number];
}

/** The master's emit, as the modules that run its steps (lifecycle, rollout, stop) call it. */
export type EmitSupervisorEvent = EventEmitter<SupervisorEvents>['emit'];
