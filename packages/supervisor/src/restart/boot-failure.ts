import type { BootBreaker } from './backoff.js';
import type { Logger } from '../observe/logger.js';
import { SuperviseError } from '../errors.js';
import { WorkerFailure } from '../worker/state.js';

/**
 * Which boot failures stop the master instead of being retried: another release of the worker SDK, a taken
 * port (neither goes away by itself), and a crash loop once the breaker trips.
 */

// `bind EADDRINUSE 127.0.0.1:3000`, `listen EADDRINUSE: address already in use :::3000`: the port is the last `:digits`.
const PORT_IN_USE = /EADDRINUSE\b(?:[^\n]*?[\w.[\]-]*:(\d+)\b)?/;

/** `port 3000` (or `the port`) when the failure says the port is taken, else null. */
export function portInUse(reason: string, lines: readonly string[]): string | null {
  const text = [reason, ...lines].join('\n');
  const m = PORT_IN_USE.exec(text);
  if (!m) return null;
  // A long stack can push the `EADDRINUSE 127.0.0.1:3000` line out of the tail; the error's fields stay.
  const number = m[1] ?? /^\s*port: (\d+),?$/m.exec(text)?.[1];
  return number ? `port ${number}` : 'the port';
}

/**
 * The error that stops the master after this boot failure, or null to retry (with backoff). `reason` is the
 * failure with its cause (`worker 123 exited with code 1 before it was ready: Error: boom (app.js:4)`).
 */
export function fatalBootFailure(
  err: unknown,
  reason: string,
  lines: string[],
  breaker: BootBreaker,
  windowMs: number,
): SuperviseError | null {
  if (err instanceof WorkerFailure && err.reason === 'protocol')
    return new SuperviseError('ERR_PROTOCOL', err.message, lines);
  const where = portInUse(reason, lines);
  if (where)
    return new SuperviseError(
      'ERR_PORT_IN_USE',
      `${where} is already in use (EADDRINUSE): is another instance running?`,
      lines,
    );
  if (breaker.record()) {
    return new SuperviseError(
      'ERR_BOOT_FAILURE',
      `workers keep failing before they are ready (${breaker.count} times within ${windowMs} ms): ${reason}`,
      lines,
    );
  }
  return null;
}

/**
 * The log line of a worker that failed at boot; returns the failure with its cause, for the fatal line. Its
 * last lines go with the fatal line, if it comes to that (once, not once per failed worker).
 */
export function logBootFailure(
  log: Logger,
  slot: number,
  pid: number | null,
  err: unknown,
  cause: string | null,
  repeated: boolean,
): string {
  const reason = err instanceof Error ? err.message : String(err);
  const full = cause ? `${reason}: ${cause}` : reason;
  // No pid: the process could not be started (the reason says why); there was no worker.
  const who = pid === null ? `slot ${slot}` : `worker ${pid} (slot ${slot})`;
  log.error(
    { event: 'worker.boot-failed', slot, ...(pid === null ? {} : { pid }), reason, cause },
    `${who} failed at boot: ${full}${repeated ? ' (as before; its output is not repeated)' : ''}`,
  );
  return full;
}
