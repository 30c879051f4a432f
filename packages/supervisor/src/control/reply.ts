import type { RolloutSummary, WorkerInfo } from '../master/supervisor-types.js';
import type { OptionInEffect } from '../config/effective.js';
import type { LogEntry } from '../observe/log-buffer.js';
import type { BakeStatus } from '../rollout/canary.js';

/**
 * What the master answers on the control socket, one JSON object per line: the reply types of the commands
 * whose answer has a shape of its own (api.ts ties each command to its reply). A command that streams (logs,
 * stop) answers several lines.
 */

import type { ReloadProgress, ReloadWorker } from './handlers/reload-progress.js';

export interface MasterStatus {
  pid: number;
  phase: string;
  script: string;
  /** The working directory as given (`/srv/app/current`). */
  cwd: string;
  /** What it resolves to now (the release `current` points to); null when it no longer exists. */
  release: string | null;
  generation: number;
  workers: number;
  ready: number;
  rollout: boolean;
  /** How connections reach the workers (--accept, or sticky). */
  accept: string;
  uptimeMs: number;
  rssBytes: number;
  node: string;
}

export type WorkerStatus = WorkerInfo & { rssBytes: number | null };

export type StatusReply = {
  ok: true;
  master: MasterStatus;
  workers: WorkerStatus[];
  /** During a canary's bake: its figures beside the old generation's, and the limits they are judged by. */
  canary?: BakeStatus;
};

/**
 * A rollout's summary as the socket carries it: the API's RolloutSummary, its failure reduced to what JSON can
 * hold (the worker's pid, the error's message), and, with --wait-drained, when the last old worker had exited.
 */
export type RolloutReply = Omit<RolloutSummary, 'failure'> & {
  /** pid null: the new worker's process could not be started. */
  failure?: { slot: number; pid: number | null; error: string; cause: string | null; lines: string[] };
  /** From the start of the rollout until every old worker had exited (reload --wait-drained). */
  drainedMs?: number;
  /** When it is done: the new workers, with the Node they run on and the release directory they run in. */
  workers?: ReloadWorker[];
};

/** With `progress`, a line per replaced worker first (reload-progress.ts), then the rollout's summary. */
export type ReloadReply = { ok: true; progress: ReloadProgress } | { ok: true; rollout: RolloutReply };

/** First that the stop began, then (best effort: the master exits right after) how it ended. */
export type StopReply = { ok: true; stopping: true; pid: number } | { ok: true; stopped: true; exitCode: number };

/**
 * The tail, an entry a line; then how many (without follow) or that the stream is open (with follow). With
 * reopen, the one line that names the log files reopened (none without --log-file).
 */
export type LogsReply =
  | { ok: true; entry: LogEntry }
  | { ok: true; lines: number }
  | { ok: true; following: true }
  | { ok: true; reopened: string[] };

/** The worker a debugging command acted on, and the inspector's URL (null: closed) or the file written. */
export type InspectReply = { ok: true; pid: number; slot: number; url: string | null };
export type DebugFileReply = { ok: true; pid: number; slot: number; path: string };

/** `config`: the options in effect, each with its origin (flag, file, default, scale), and the PM2 keys ignored. */
export type ConfigReply = {
  ok: true;
  /** The master that answered; null when the CLI computed the options without one. */
  master: { pid: number; cwd: string } | null;
  file: string | null;
  app: string | null;
  ignored: string[];
  options: OptionInEffect[];
};

/** How an upgrade ended: the new master serves (this one drains and exits), or it failed and this one goes on. */
export type UpgradeReply = {
  ok: true;
  upgrade:
    | { outcome: 'done'; from: number; to: number; node: string; draining: number }
    | { outcome: 'failed'; from: number; error: string };
};

export type ErrorReply = {
  ok: false;
  code: string;
  error: string;
};

/** The one conversion from the API's rollout summary to the socket's. */
export function rolloutReply(summary: RolloutSummary, drainedMs?: number): RolloutReply {
  const { failure, ...rest } = summary;
  return {
    ...rest,
    ...(failure
      ? {
          failure: {
            slot: failure.slot,
            pid: failure.worker?.pid ?? null,
            error: failure.error instanceof Error ? failure.error.message : String(failure.error),
            cause: failure.cause,
            lines: failure.lines,
          },
        }
      : {}),
    ...(drainedMs === undefined ? {} : { drainedMs }),
  };
}
