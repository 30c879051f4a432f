import type PinoPretty from 'pino-pretty';

import type { LogFormat, LogLevel } from '../config/options.js';
import { jsonLogger, type Logger } from './json-logger.js';
import { logBuffer, masterEntry } from './log-buffer.js';
import { logDestination, logOut, toFile } from './log-route.js';
import { requireCjs } from '../require-cjs.js';

export type { Logger } from './json-logger.js';

/**
 * The master's logger: JSON lines (one event each, with an `event` field) for machines, a readable line for a
 * terminal. Synchronous on purpose: the master's log volume is small, and a log line written just before
 * process.exit() must not be lost. Both go where log-route.ts says: fd 1 or 2, or the --log-file.
 */
export function createLogger(level: LogLevel, format: LogFormat, fd: 1 | 2 = 1): Logger {
  // Every line also goes to the buffer `supervise logs` reads (pino hands the destination one JSON line).
  const stream = fd === 1 ? 'stdout' : 'stderr';
  const tee = (dest: { write(line: string): unknown }) => ({
    write(line: string) {
      dest.write(line);
      const entry = masterEntry(line, stream);
      if (entry) logBuffer.push(entry);
    },
  });
  if (format !== 'pretty') return jsonLogger(level, tee({ write: (line: string) => logOut(fd, line) }).write);
  // Loaded only for a terminal: pino, pino-pretty and their dependencies cost the JSON-logging master memory for
  // nothing (json-logger.ts writes the same lines).
  const { pino } = requireCjs('pino') as typeof import('pino');
  const pretty = requireCjs('pino-pretty') as typeof PinoPretty;
  const prettyStream = pretty({
    sync: true,
    destination: logDestination(fd),
    colorize: !toFile() && (fd === 1 ? process.stdout.isTTY : process.stderr.isTTY),
    ignore: 'pid,hostname,event',
    // One sentence per line in a terminal: the fields belong to the JSON log.
    hideObject: true,
    translateTime: 'HH:MM:ss.l',
  });
  return pino({ level, base: { pid: process.pid } }, tee(prettyStream));
}
