import path from 'node:path';
import { isatty } from 'node:tty';

import { bool, duration, oneOfCheck, pathOrNull, textCheck, textList, textListCheck } from '../option-kinds.js';
import { LOG_LEVELS, parseCount, stringList, usage } from '../option-parse.js';
import type { LogFormat, LogLevel, OptionTable } from '../option-types.js';

/** What the file watcher skips whatever --ignore adds. */
export const DEFAULT_IGNORE = [
  '**/node_modules/**',
  '**/.git/**',
  '**/*.log',
  '**/logs/**',
  '**/dist/**',
  '**/build/**',
  '**/coverage/**',
  '**/.*.swp',
  '**/*~',
];

/** The file watcher's options: a reload builds a new watcher with them. */
export function watchOptions(): Pick<OptionTable, 'watch' | 'ignore' | 'watchDebounceMs' | 'watchPoll'> {
  return {
    watch: {
      flags: '--watch [paths...]',
      help: 'reload on file changes',
      doc: '`supervise --watch src app.js` works too: the last file after --watch is taken as the script when none follows.',
      defaultText: "the script's directory",
      value: 'true, or paths (relative to --cwd)',
      check: (v, k) => {
        if (typeof v !== 'boolean') textListCheck(v, k);
      },
      parse: (v, name, ctx) => {
        if (v === undefined || v === false) return null;
        const paths = v === true ? [] : stringList(v, name);
        return (paths.length > 0 ? paths : [path.dirname(ctx.get('script'))]).map((p) => ctx.path(p));
      },
      reload: 'watcher',
    },
    ignore: {
      ...textList,
      flags: '--ignore <glob>',
      help: 'a path the watcher ignores (repeatable)',
      doc: `Always ignored as well: ${DEFAULT_IGNORE.map((g) => `\`${g}\``).join(', ')}.`,
      repeatable: true,
      parse: (v, name) => [...DEFAULT_IGNORE, ...stringList(v, name)],
      reload: 'watcher',
    },
    watchDebounceMs: {
      ...duration(),
      flags: '--watch-debounce <ms>',
      help: 'quiet time after a change before the reload',
      default: 200,
      reload: 'watcher',
    },
    watchPoll: {
      ...bool,
      flags: '--watch-poll',
      help: 'poll instead of inotify (network file systems, some containers)',
      default: false,
      reload: 'watcher',
    },
  };
}

/** The master's own endpoints and log: bound or chosen at its start, except the log level. */
export function masterOptions(): Pick<
  OptionTable,
  'control' | 'pidFile' | 'healthPort' | 'healthHost' | 'logLevel' | 'logFormat'
> {
  return {
    control: {
      ...pathOrNull(),
      flags: '--control <path>',
      help: 'control socket path',
      doc: 'Without it, a private socket per directory the master starts from: `supervise status` there finds it.',
      reload: 'restart',
    },
    pidFile: {
      ...pathOrNull(),
      flags: '--pid-file <path>',
      help: "write the master's pid to this file",
      doc: 'Removed at exit.',
      reload: 'restart',
    },
    healthPort: {
      flags: '--health-port <port>',
      help: 'serve /health (200 at full capacity, else 503), /live and /metrics for load balancers, probes and Prometheus',
      value: 'a port from 0 to 65535',
      check: (v, k) => {
        if (v !== null) parseCount(v, k, { min: 0, max: 65535 });
      },
      parse: (v, name) => (v === undefined || v === null ? null : parseCount(v, name, { min: 0, max: 65535 })),
      reload: 'restart',
    },
    healthHost: {
      flags: '--health-host <address>',
      help: 'address of the health endpoint; give 0.0.0.0 for probes from outside, as in Kubernetes',
      default: '127.0.0.1',
      value: 'an address',
      check: textCheck,
      parse: (v) => (v === '' ? '127.0.0.1' : String(v)),
      reload: 'restart',
    },
    logLevel: {
      flags: '--log-level <level>',
      help: LOG_LEVELS.join(', '),
      default: 'info',
      value: LOG_LEVELS.join(', '),
      check: oneOfCheck(LOG_LEVELS),
      parse: (v, name) => {
        const level = String(v) as LogLevel;
        if (!LOG_LEVELS.includes(level)) usage(`${name} must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
        return level;
      },
      reload: 'log-level',
    },
    logFormat: {
      flags: '--log-format <format>',
      help: 'json or pretty',
      doc: 'pretty: one sentence per line; json: every field.',
      defaultText: 'pretty in a terminal, else json',
      value: 'json or pretty',
      choices: ['json', 'pretty'],
      check: oneOfCheck(['json', 'pretty']),
      parse: (v, name, ctx) => {
        const terminal = isatty(1) && ctx.get('logFile') === null;
        const format = String(v ?? (terminal ? 'pretty' : 'json')) as LogFormat;
        if (format !== 'json' && format !== 'pretty') usage(`${name} must be json or pretty, got "${format}"`);
        return format;
      },
      reload: 'restart',
    },
  };
}
