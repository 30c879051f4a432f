/**
 * Errors the master reports to a user: one line, a stable code, and the process exit code it maps to.
 * Anything else that escapes is a bug, and is reported as such (exit 70) rather than as a stack trace.
 */

/** Every exit code of supervise, with what it tells a user: EXIT, --help and the docs read it. */
export const EXIT_CODES = {
  ok: { code: 0, meaning: 'stopped cleanly: every worker drained and exited by itself' },
  /** Some worker had to be killed, some connection forced, or some worker died on its own, during the stop. */
  forced: {
    code: 1,
    meaning:
      'stopped, but a worker had to be killed at --kill-timeout, a connection was forced at the drain deadline, or a worker died during its drain',
  },
  usage: { code: 2, meaning: 'bad usage: unknown flag, bad value, missing script, bad config file' },
  /** Workers crash (or never become ready) at boot, again and again: the breaker tripped. */
  bootFailure: { code: 3, meaning: 'workers keep failing at boot (--crash-limit failures within --crash-window)' },
  /** The app's port is taken by another process. */
  portInUse: { code: 4, meaning: 'the port is in use (EADDRINUSE)' },
  /** The control command could not reach or convince a running master. */
  control: { code: 5, meaning: 'a control command could not reach its master, or the master refused' },
  /** `supervise reload`: the canary did worse than the old workers; they keep serving. */
  canary: {
    code: 6,
    meaning: '`supervise reload`: the canary did worse than the old workers (the verdict says how); rolled back',
  },
  /** `supervise inspect|heap-snapshot|report`: no live worker has that pid or slot. */
  noWorker: { code: 7, meaning: 'a command for one worker (inspect, heap-snapshot, report) named no live worker' },
  /** `supervise reload --timeout`: no result in time (the rollout goes on in the master); as timeout(1). */
  timeout: {
    code: 124,
    meaning: '`supervise reload --timeout`: no result in time (the rollout goes on in the master)',
  },
  internal: { code: 70, meaning: 'internal error (a bug: please report it)' },
  /** A second SIGINT/SIGTERM during a stop: killed at once, the shell's conventional codes. */
  sigint: { code: 130, meaning: 'a second SIGINT forced the stop' },
  sigterm: { code: 143, meaning: 'a second SIGTERM forced the stop' },
} as const;

type ExitName = keyof typeof EXIT_CODES;

/** The exit codes by name (EXIT.usage is 2). */
export const EXIT = Object.fromEntries(Object.entries(EXIT_CODES).map(([name, { code }]) => [name, code])) as {
  readonly [K in ExitName]: (typeof EXIT_CODES)[K]['code'];
};

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
  | 'ERR_PROTOCOL'
  /** No live worker has the pid or slot a command named. */
  | 'ERR_NO_WORKER';

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
  ERR_NO_WORKER: EXIT.noWorker,
};

/**
 * What makes an error a SuperviseError wherever its class was defined: the master's option-only code (the
 * health endpoint, --sticky) runs from files of its own beside the master's bundle, each with its own copy of
 * this module, and `instanceof` decides the exit code of an error thrown there.
 */
const BRAND = Symbol.for('supervise.SuperviseError');

export class SuperviseError extends Error {
  static override [Symbol.hasInstance](value: unknown): boolean {
    // A subclass inherits this: it keeps the usual check, by its own prototype.
    if (this !== SuperviseError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

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
Object.defineProperty(SuperviseError.prototype, BRAND, { value: true });
