import { existsSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { SuperviseError } from '../errors.js';
import { logicalCwd } from './logical-cwd.js';
import {
  LOG_LEVELS,
  MAX_WORKERS,
  parseAccept,
  parseBool,
  parseCount,
  parseDuration,
  parseEnv,
  parseIdleGrace,
  parseWorkers,
  splitArgs,
  stringList,
  usage,
} from './option-parse.js';
import { optionDefault } from './option-table.js';
import type { LogFormat, LogLevel, RawOptions, SupervisorOptions } from './option-types.js';

export type { LogFormat, LogLevel, OptionKey, RawOptions, SupervisorOptions } from './option-types.js';
export {
  DEFAULT_ACCEPT,
  LOG_LEVELS,
  MAX_WORKERS,
  parseAccept,
  parseCount,
  parseDuration,
  parseEnv,
  parseIdleGrace,
  parseWorkers,
  splitArgs,
} from './option-parse.js';

function parseSerialization(value: unknown): SupervisorOptions['ipcSerialization'] {
  if (value === 'json' || value === 'advanced') return value;
  return usage(`--ipc-serialization must be json or advanced, got ${JSON.stringify(value)}`);
}

/** --sticky needs the port the app is told to listen on: the master takes it, the app gets a private one. */
function parseSticky(raw: RawOptions, env: Record<string, string>): SupervisorOptions['sticky'] {
  const sticky = parseBool(raw.sticky ?? optionDefault('sticky'), '--sticky');
  const trustProxy = parseBool(raw.trustProxy ?? optionDefault('trustProxy'), '--trust-proxy');
  if (!sticky) {
    if (trustProxy)
      usage('--trust-proxy only applies with --sticky (it picks the client address a connection is routed by)');
    return null;
  }
  const port = env.PORT ?? process.env.PORT;
  if (port === undefined || port === '') {
    usage(
      "--sticky needs the app's port in PORT (e.g. PORT=3000 supervise app.js --sticky), and an app that listens on process.env.PORT",
    );
  }
  return { port: parseCount(port, 'PORT', { min: 1, max: 65535 }), trustProxy };
}

const DEFAULT_IGNORE = [
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

/** Validates everything once, with one-line messages that name the option. */
export function resolveOptions(raw: RawOptions, base: { cwd?: string } = {}): SupervisorOptions {
  // Logical (`current`, not the release it points to): the kernel resolves it again at each fork.
  const cwd = path.resolve(base.cwd ?? logicalCwd(), raw.cwd === undefined ? '.' : String(raw.cwd));
  const env = parseEnv(raw.env);
  if (raw.cwd !== undefined && !(existsSync(cwd) && statSync(cwd).isDirectory())) {
    usage(`--cwd: no such directory: ${cwd}`);
  }
  if (raw.script === undefined || raw.script === '') usage('missing the script to run: supervise <script> [options]');
  const script = path.resolve(cwd, String(raw.script));
  if (!existsSync(script)) throw new SuperviseError('ERR_SCRIPT_NOT_FOUND', `script not found: ${script}`);
  if (statSync(script).isDirectory())
    throw new SuperviseError('ERR_SCRIPT_NOT_FOUND', `script is a directory: ${script}`);

  const killTimeoutMs = parseDuration(raw.killTimeoutMs ?? optionDefault('killTimeoutMs'), '--kill-timeout', {
    allowZero: false,
  });
  const drainTimeoutMs =
    raw.drainTimeoutMs === undefined
      ? Math.max(Math.floor(killTimeoutMs * 0.8), killTimeoutMs - 5_000)
      : parseDuration(raw.drainTimeoutMs, '--drain-timeout');
  if (drainTimeoutMs >= killTimeoutMs) usage('--drain-timeout must be shorter than --kill-timeout');

  const logLevel = String(raw.logLevel ?? optionDefault('logLevel')) as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) usage(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const logFormat = String(raw.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json')) as LogFormat;
  if (logFormat !== 'json' && logFormat !== 'pretty') usage(`--log-format must be json or pretty, got "${logFormat}"`);

  let watch: string[] | null = null;
  if (raw.watch !== undefined && raw.watch !== false) {
    const paths = raw.watch === true ? [] : stringList(raw.watch, '--watch');
    watch = (paths.length > 0 ? paths : [path.dirname(script)]).map((p) => path.resolve(cwd, p));
  }

  const healthPort =
    raw.healthPort === undefined || raw.healthPort === null
      ? null
      : parseCount(raw.healthPort, '--health-port', { min: 0, max: 65535 });

  const watchdogTimeoutMs = parseDuration(
    raw.watchdogTimeoutMs ?? optionDefault('watchdogTimeoutMs'),
    '--watchdog-timeout',
  );
  const heartbeatMs = parseDuration(raw.heartbeatMs ?? optionDefault('heartbeatMs'), '--heartbeat');
  // A timeout under two heartbeats would kill healthy workers whose beat is merely a little late.
  if (watchdogTimeoutMs > 0 && (heartbeatMs === 0 || watchdogTimeoutMs < 2 * heartbeatMs)) {
    usage(`--watchdog-timeout must be at least twice --heartbeat (${heartbeatMs} ms), got ${watchdogTimeoutMs} ms`);
  }
  const autoDrain = parseBool(raw.autoDrain ?? optionDefault('autoDrain'), '--auto-drain');
  const maxRequests = parseCount(raw.maxRequests ?? optionDefault('maxRequests'), '--max-requests');
  if (heartbeatMs === 0 && maxRequests > 0) {
    usage('--max-requests needs the heartbeat, which carries the request count: remove --heartbeat 0');
  }

  return {
    script,
    args: stringList(raw.args, 'args'),
    workers: parseWorkers(raw.workers ?? os.availableParallelism()),
    cwd,
    env,
    envFile: stringList(raw.envFile, '--env-file').map((f) => path.resolve(cwd, f)),
    nodeArgs: splitArgs(raw.nodeArgs),
    // A path is kept as given (a symlink such as /usr/local/bin/node is followed at each fork); a bare name is
    // looked up in PATH, like a shell would.
    node:
      raw.node === undefined || raw.node === null || raw.node === ''
        ? null
        : String(raw.node).includes('/')
          ? path.resolve(cwd, String(raw.node))
          : String(raw.node),
    killTimeoutMs,
    drainTimeoutMs,
    idleGrace: parseIdleGrace(raw.idleGrace),
    readyTimeoutMs: parseDuration(raw.readyTimeoutMs ?? optionDefault('readyTimeoutMs'), '--ready-timeout', {
      allowZero: false,
    }),
    autoDrain,
    surge: parseCount(raw.surge ?? optionDefault('surge'), '--surge', { min: 1, max: MAX_WORKERS }),
    // Without the engine in the workers nothing counts or moves keep-alive connections, and a shared socket stays
    // as uneven as the kernel left it: round-robin then, unless --accept says otherwise.
    accept: parseAccept(raw.accept ?? (autoDrain ? optionDefault('accept') : 'round-robin')),
    sticky: parseSticky(raw, env),
    ipcSerialization: parseSerialization(raw.ipcSerialization ?? optionDefault('ipcSerialization')),
    maxDraining:
      raw.maxDraining === undefined || raw.maxDraining === null
        ? null
        : parseCount(raw.maxDraining, '--max-draining', { min: 1, max: MAX_WORKERS }),
    restartDelayMs: parseDuration(raw.restartDelayMs ?? optionDefault('restartDelayMs'), '--restart-delay'),
    restartDelayMaxMs: parseDuration(
      raw.restartDelayMaxMs ?? optionDefault('restartDelayMaxMs'),
      '--restart-delay-max',
    ),
    stableUptimeMs: parseDuration(raw.stableUptimeMs ?? optionDefault('stableUptimeMs'), '--stable-uptime'),
    crashLimit: parseCount(raw.crashLimit ?? optionDefault('crashLimit'), '--crash-limit', { min: 1 }),
    crashWindowMs: parseDuration(raw.crashWindowMs ?? optionDefault('crashWindowMs'), '--crash-window', {
      allowZero: false,
    }),
    watchdogTimeoutMs,
    heartbeatMs,
    maxMemoryMb: parseCount(raw.maxMemoryMb ?? optionDefault('maxMemoryMb'), '--max-memory'),
    maxRequests,
    maxAgeMs: parseDuration(raw.maxAgeMs ?? optionDefault('maxAgeMs'), '--max-age'),
    watch,
    ignore: [...DEFAULT_IGNORE, ...stringList(raw.ignore, '--ignore')],
    watchDebounceMs: parseDuration(raw.watchDebounceMs ?? optionDefault('watchDebounceMs'), '--watch-debounce'),
    watchPoll: parseBool(raw.watchPoll ?? optionDefault('watchPoll'), '--watch-poll'),
    control: raw.control === undefined || raw.control === null ? null : path.resolve(cwd, String(raw.control)),
    pidFile: raw.pidFile === undefined || raw.pidFile === null ? null : path.resolve(cwd, String(raw.pidFile)),
    healthPort,
    healthHost:
      raw.healthHost === undefined || raw.healthHost === ''
        ? optionDefault<string>('healthHost')
        : String(raw.healthHost),
    logLevel,
    logFormat,
  };
}
