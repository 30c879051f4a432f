import type { WorkerInfo } from '../master/supervisor-types.js';

/** What the master answers on the control socket, one JSON object per line (see request.ts for the asks). */

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
  /** How connections reach the workers (--accept). */
  accept: string;
  uptimeMs: number;
  rssBytes: number;
  node: string;
}

export type WorkerStatus = WorkerInfo & { rssBytes: number | null };

export interface StatusReply {
  ok: true;
  master: MasterStatus;
  workers: WorkerStatus[];
}

export interface ErrorReply {
  ok: false;
  code: string;
  error: string;
}
