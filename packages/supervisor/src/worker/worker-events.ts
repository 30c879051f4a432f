import type { DrainReason, DrainStats } from '@supervise/worker-sdk/protocol';

import type { OutputStream } from './output-lines.js';
import type { WorkerState } from './state.js';

/** The shapes a WorkerProcess shows the rest of the master: its timeouts, its exit and its events. */

export interface WorkerTimeouts {
  drainTimeoutMs: number;
  killTimeoutMs: number;
}

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** The master asked it to leave (drain, kill), as opposed to a crash. */
  intended: boolean;
  /** The master had to SIGKILL it. */
  killed: boolean;
  /** What the worker's drain reported in its ack, when it sent one. */
  stats: DrainStats | null;
  /** Why the master drained it (null: it was killed, or it left by itself). */
  reason: DrainReason | null;
  /** It had been ready (served), as opposed to failing or being stopped at boot. */
  served: boolean;
  /**
   * Asked to leave, it died on its own before its drain was done: no ack, not killed by the master, and a
   * non-zero code or a signal the master did not send (a handler that threw while it drained).
   */
  died: boolean;
}

/** What a WorkerProcess emits, with each event's arguments. */
export interface WorkerProcessEvents {
  state: [from: WorkerState, to: WorkerState];
  line: [stream: OutputStream, line: string];
  heartbeat: [];
  /** The worker started a drain the master did not ask for. */
  'self-drain': [];
  /** Its drain began: its servers no longer accept. */
  closed: [];
  /** A server of it could not listen (the app handled the error itself). */
  'listen-error': [message: string];
  /** Its SDK speaks another protocol version (the message says which). */
  'protocol-mismatch': [message: string];
  /** Its answer to a connection the master handed over (--sticky). */
  'connection-ack': [id: number, accepted: boolean, rest: string | undefined];
  exit: [info: ExitInfo];
}
