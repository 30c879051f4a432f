import { count, duration, pathOrNull } from '../option-kinds.js';
import { usage } from '../option-parse.js';
import type { OptionTable } from '../option-types.js';

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** Bytes, or a size with a unit as pm2-logrotate writes it: 512K, 10M, 1G; 0: off. */
export function parseSize(value: unknown, name: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMG]?)B?\s*$/i.exec(typeof value === 'number' ? String(value) : String(value));
  if (!m || (typeof value !== 'number' && typeof value !== 'string'))
    usage(`${name} must be a size such as 10M, 512K or bytes, got ${JSON.stringify(value)}`);
  return Math.ceil(Number(m[1]) * (UNITS[(m[2] ?? '').toUpperCase()] ?? 1));
}

/** The log file and its rotation: opened when the master starts. */
export function logFileOptions(): Pick<OptionTable, 'logFile' | 'logMaxSize' | 'logMaxAgeMs' | 'logKeep'> {
  return {
    logFile: {
      ...pathOrNull(),
      flags: '--log-file <path>',
      help: "write the master's log and the workers' output to this file instead of stdout and stderr",
      doc: 'Each line is written whole by the master; `kill -USR1 <master>` or `supervise logs --reopen` reopens it after an external logrotate moved it. The log format defaults to json there.',
      defaultText: 'none: stdout and stderr',
      reload: 'restart',
    },
    logMaxSize: {
      flags: '--log-max-size <size>',
      help: 'rotate the log file before it grows past this size (10M, 512K, bytes)',
      doc: 'The file is renamed `<path>.1` (the previous `.1` becomes `.2`, and so on) and a new one is started.',
      default: 0,
      defaultText: '0: off',
      value: 'a size: bytes, or 512K, 10M, 1G',
      check: (v, k) => void parseSize(v, k),
      parse: (v, name) => (v === undefined || v === null ? 0 : parseSize(v, name)),
      reload: 'restart',
    },
    logMaxAgeMs: {
      ...duration(),
      flags: '--log-max-age <duration>',
      help: 'rotate the log file once it is older than this, e.g. 1d',
      doc: 'Checked when a line is written: a file nothing writes to is not rotated.',
      default: 0,
      defaultText: '0: off',
      reload: 'restart',
    },
    logKeep: {
      ...count(0, 1000),
      flags: '--log-keep <n>',
      help: 'rotated log files kept besides the current one; older ones are deleted',
      default: 5,
      reload: 'restart',
    },
  };
}
