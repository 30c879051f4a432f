import { Writable } from 'node:stream';

import { SuperviseError } from '../errors.js';
import { LogFile, type RotationRule } from './log-file.js';
import { writeOut } from './stdio.js';

/**
 * Where the master's log and the workers' output go: stdout and stderr (the default), or, with --log-file, one
 * file for both, each line written whole by the master alone (log-file.ts). One per master process.
 */

let file: LogFile | null = null;

/** With a path, every line from now on goes to that file; throws a one-line usage error when it cannot open. */
export function openLogFile(path: string | null, rule: RotationRule): void {
  if (path === null) return;
  try {
    file = new LogFile(path, rule, (message) => writeOut(2, message));
  } catch (err) {
    throw new SuperviseError(
      'ERR_USAGE',
      `--log-file: cannot open ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
}

/** True when lines go to a file: no terminal colours there. */
export function toFile(): boolean {
  return file !== null;
}

/** Writes whole lines to the log file, else to fd 1 or 2. Never throws. */
export function logOut(fd: 1 | 2, text: string): void {
  if (file) file.write(text);
  else writeOut(fd, text);
}

/** Reopens the log file at its path (SIGUSR1, `supervise logs --reopen`); the paths it reopened. */
export function reopenLogFiles(): string[] {
  if (!file) return [];
  file.reopen();
  return [file.path];
}

/** A log destination (pino, pino-pretty) on the log file or fd 1 or 2; it writes synchronously. */
export function logDestination(fd: 1 | 2): Writable {
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      logOut(fd, typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      done();
    },
  });
}
