import type { Logger } from 'pino';
import type PinoPretty from 'pino-pretty';

import type { LogFormat, LogLevel } from '../config/options.js';
import { logBuffer, masterEntry } from './log-buffer.js';
import { logDestination, toFile } from './log-route.js';
import { requireCjs } from '../require-cjs.js';

const { pino } = requireCjs('pino') as typeof import('pino');

export type { Logger } from 'pino';

/**
 * The master's logger: JSON lines (one event each, with an `event` field) for machines, a readable line for a
 * terminal. Synchronous on purpose: the master's log volume is small, and a log line written just before
 * process.exit() must not be lost.
 */
export function createLogger(level: LogLevel, format: LogFormat, fd: 1 | 2 = 1): Logger {
  const base = { pid: process.pid };
  // Every line also goes to the buffer `supervise logs` reads (pino hands the destination one JSON line).
  const stream = fd === 1 ? 'stdout' : 'stderr';
  const tee = (dest: { write(line: string): unknown }) => ({
    write(line: string) {
      dest.write(line);
      const entry = masterEntry(line, stream);
      if (entry) logBuffer.push(entry);
    },
  });
  if (format === 'pretty') {
    // Loaded only for a terminal: pino-pretty and its dependencies cost the JSON-logging master memory for nothing.
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
    return pino({ level, base }, tee(prettyStream));
  }
  return pino({ level, base, timestamp: pino.stdTimeFunctions.isoTime }, tee(logDestination(fd)));
}
