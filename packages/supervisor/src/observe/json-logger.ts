import type { LogLevel } from '../config/options.js';
import { isoTime } from './iso-time.js';

/** A log method: `(fields, message)`, `(message)` or `(fields)`, as pino's are called. */
export type LogFn = (fieldsOrMessage: object | string, message?: string) => void;

/**
 * What the master asks of a logger. A pino logger fits (createSupervisor accepts one); so does jsonLogger's.
 */
export interface Logger {
  level: string;
  fatal: LogFn;
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  trace: LogFn;
}

/** pino's level numbers, which the JSON lines carry and `supervise logs` reads back. */
const LEVEL_VALUES: Record<LogLevel, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
};

/** JSON.stringify, and for what it refuses (a cycle, a BigInt) a copy it accepts, as pino's serializer does. */
function stringify(fields: object): string {
  try {
    return JSON.stringify(fields);
  } catch {
    const seen = new WeakSet<object>();
    return JSON.stringify(fields, (_key, value: unknown) => {
      if (typeof value === 'bigint') return value.toString();
      if (typeof value === 'object' && value !== null) {
        if (seen.has(value)) return '[Circular]';
        seen.add(value);
      }
      return value;
    });
  }
}

/**
 * The master's JSON log, line for line what pino writes with the master's settings (`level`, an ISO `time`,
 * `pid`, the fields, then `msg`), without loading pino: pino and its dependencies cost an idle master memory and
 * its start CPU (measured in bench/RESULTS-cost.md), for a log of a few lines a minute. pino stays
 * for the terminal's readable output (pino-pretty) and for a logger passed to createSupervisor.
 */
export function jsonLogger(level: LogLevel, write: (line: string) => void): Logger {
  let current: LogLevel = level;
  let threshold = LEVEL_VALUES[level];
  const pid = `,"pid":${process.pid}`;
  const at =
    (value: number): LogFn =>
    (fieldsOrMessage, message) => {
      if (value < threshold) return;
      const fields =
        typeof fieldsOrMessage === 'object' && fieldsOrMessage !== null ? stringify(fieldsOrMessage) : '{}';
      const text = typeof fieldsOrMessage === 'string' ? fieldsOrMessage : message;
      write(
        `{"level":${value},"time":"${isoTime()}"${pid}${fields.length > 2 ? `,${fields.slice(1, -1)}` : ''}${
          text === undefined ? '' : `,"msg":${JSON.stringify(text)}`
        }}\n`,
      );
    };
  return {
    get level() {
      return current;
    },
    set level(next: string) {
      if (!Object.hasOwn(LEVEL_VALUES, next)) throw new Error(`unknown log level: ${next}`);
      current = next as LogLevel;
      threshold = LEVEL_VALUES[current];
    },
    fatal: at(LEVEL_VALUES.fatal),
    error: at(LEVEL_VALUES.error),
    warn: at(LEVEL_VALUES.warn),
    info: at(LEVEL_VALUES.info),
    debug: at(LEVEL_VALUES.debug),
    trace: at(LEVEL_VALUES.trace),
  };
}
