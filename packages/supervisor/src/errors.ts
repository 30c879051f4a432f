/**
 * Errors the master reports to a user: one line, a stable code, and the process exit code it maps to.
 * Anything else that escapes is a bug, and is reported as such (exit 70) rather than as a stack trace.
 */
export const EXIT = {
  ok: 0,
  /** Some worker had to be killed, or some connection forced, during the stop. */
  forced: 1,
  usage: 2,
  /** Workers crash (or never become ready) at boot, again and again: the breaker tripped. */
  bootFailure: 3,
  /** The app's port is taken by another process. */
  portInUse: 4,
  /** The control command could not reach or convince a running master. */
  control: 5,
  /** `supervise reload --timeout`: no result in time (the rollout goes on in the master); as timeout(1). */
  timeout: 124,
  internal: 70,
  /** A second SIGINT/SIGTERM during a stop: killed at once, the shell's conventional codes. */
  sigint: 130,
  sigterm: 143,
} as const;

export type ErrorCode =
  | 'ERR_USAGE'
  | 'ERR_CONFIG'
  | 'ERR_SCRIPT_NOT_FOUND'
  | 'ERR_BOOT_FAILURE'
  | 'ERR_PORT_IN_USE'
  | 'ERR_CONTROL'
  | 'ERR_WATCH_LIMIT'
  /** stop() was called before start() was done: start() rejects with it, once the stop has finished. */
  | 'ERR_STOPPED'
  /** A worker's SDK speaks another protocol version than the master. */
  | 'ERR_PROTOCOL';

const exitFor: Record<ErrorCode, number> = {
  ERR_USAGE: EXIT.usage,
  ERR_CONFIG: EXIT.usage,
  ERR_SCRIPT_NOT_FOUND: EXIT.usage,
  ERR_BOOT_FAILURE: EXIT.bootFailure,
  ERR_PORT_IN_USE: EXIT.portInUse,
  ERR_CONTROL: EXIT.control,
  ERR_WATCH_LIMIT: EXIT.usage,
  ERR_STOPPED: EXIT.ok,
  ERR_PROTOCOL: EXIT.usage,
};

export class SuperviseError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  /** Extra lines (a worker's last stderr lines) that explain the one-line message. */
  readonly details: string[];

  constructor(code: ErrorCode, message: string, details: string[] = []) {
    super(message);
    this.name = 'SuperviseError';
    this.code = code;
    this.exitCode = exitFor[code];
    this.details = details;
  }
}
