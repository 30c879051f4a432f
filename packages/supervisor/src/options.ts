import { existsSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { AcceptName } from './accept/index.js';
import { SuperviseError } from './errors.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type LogFormat = 'json' | 'pretty';

/** Every option, validated, with defaults applied. Built once at the edge (CLI, config file, API). */
export interface SupervisorOptions {
  script: string;
  args: string[];
  workers: number;
  cwd: string;
  env: Record<string, string>;
  nodeArgs: string[];
  killTimeoutMs: number;
  /** The worker's own drain deadline: shorter than the kill timeout, so it can force, ack and exit first. */
  drainTimeoutMs: number;
  /** The drain's idle rule: 'keep-alive' (the app's own keepAliveTimeout) or a fixed grace in ms. */
  idleGrace: 'keep-alive' | number;
  readyTimeoutMs: number;
  autoDrain: boolean;
  surge: number;
  /** How connections reach the workers: one shared listening socket, or the primary's round-robin. */
  accept: AcceptName;
  /**
   * --sticky: the master accepts on the app's port (`port`, from PORT) and hands each client's connections to
   * one worker slot; with trustProxy the client is the first X-Forwarded-For hop. null: not sticky.
   */
  sticky: { port: number; trustProxy: boolean } | null;
  /** At most this many old workers drain at once; null: as many as there are workers (the pace never waits). */
  maxDraining: number | null;
  restartDelayMs: number;
  restartDelayMaxMs: number;
  stableUptimeMs: number;
  crashLimit: number;
  crashWindowMs: number;
  watchdogTimeoutMs: number;
  heartbeatMs: number;
  maxMemoryMb: number;
  maxRequests: number;
  maxAgeMs: number;
  watch: string[] | null;
  ignore: string[];
  watchDebounceMs: number;
  watchPoll: boolean;
  control: string | null;
  pidFile: string | null;
  healthPort: number | null;
  /** Where the health endpoint listens: loopback unless a probe comes from outside (Kubernetes: 0.0.0.0). */
  healthHost: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

/** The keys a user may give: the options, and the ones folded into another (trustProxy into sticky). */
export type OptionKey = keyof SupervisorOptions | 'trustProxy';

/** What a user may give, from flags, a config file or the API: loosely typed, validated by resolveOptions. */
export type RawOptions = Partial<Record<OptionKey, unknown>>;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** A value as the user wrote it: a string in quotes, a number or anything else as JSON (0, not "0"). */
function shown(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : (JSON.stringify(value) ?? String(value));
}

function usage(message: string): never {
  throw new SuperviseError('ERR_USAGE', message);
}

/** `n` or `max`: a positive integer, never 0. */
export function parseWorkers(value: unknown, flag = '--workers'): number {
  if (value === 'max') return os.availableParallelism();
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (typeof value === 'string' && !/^\d+$/.test(value.trim())) {
    usage(`${flag} must be a positive integer or "max", got "${value}"`);
  }
  if (!Number.isInteger(n) || n < 1) usage(`${flag} must be a positive integer or "max", got ${shown(value)}`);
  if (n > 1024) usage(`${flag} must be at most 1024, got ${n}`);
  return n;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds as a number, or a string with a unit: `500`, `500ms`, `30s`, `5m`, `2h`, `1d`. */
export function parseDuration(value: unknown, flag: string, { allowZero = true } = {}): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0 && (allowZero || value > 0)) {
    return Math.round(value);
  }
  const m = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value) : null;
  if (!m) usage(`${flag} must be a duration such as 500, 500ms, 30s or 5m, got ${shown(value)}`);
  const ms = Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!);
  if (!allowZero && ms === 0) usage(`${flag} must be greater than 0`);
  return ms;
}

/**
 * Round-robin by default: it spreads keep-alive connections evenly, and a shared socket does not (measured:
 * 50 keep-alive connections opened at once over 4 workers, from 0.14x to 2.99x the mean). `shared` is the
 * opt-in fast path for connection-heavy traffic (1.67x PM2 with one request per connection).
 */
export const DEFAULT_ACCEPT: AcceptName = 'round-robin';

export function parseAccept(value: unknown, flag = '--accept'): AcceptName {
  if (value === undefined) return DEFAULT_ACCEPT;
  if (value === 'shared' || value === 'round-robin') return value;
  return usage(`${flag} must be shared or round-robin, got ${shown(value)}`);
}

/** `keep-alive`, or a duration: the drain's idle rule. */
export function parseIdleGrace(value: unknown, flag = '--idle-grace'): 'keep-alive' | number {
  if (value === undefined || value === 'keep-alive') return 'keep-alive';
  return parseDuration(value, flag);
}

export function parseCount(value: unknown, flag: string, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(String(value)) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    usage(`${flag} must be an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}, got ${shown(value)}`);
  }
  return n;
}

/** `KEY=VAL` pairs (repeatable flag) or an object (config file). */
export function parseEnv(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (Array.isArray(value)) {
    const env: Record<string, string> = {};
    for (const pair of value) {
      const s = String(pair);
      const eq = s.indexOf('=');
      if (eq <= 0) usage(`--env expects KEY=VALUE, got "${s}"`);
      env[s.slice(0, eq)] = s.slice(eq + 1);
    }
    return env;
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
  }
  return usage(`env must be KEY=VALUE pairs or an object`);
}

/**
 * Splits `--node-args "--import tsx --max-old-space-size=512"` the way a shell splits words: whitespace
 * separates them, and quotes (single or double, anywhere in a word) group, so `--title="my app"` is one word,
 * `--title=my app`. A backslash outside single quotes keeps the next character.
 */
export function splitArgs(value: unknown): string[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.map(String);
  const text = String(value);
  const out: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) usage(`--node-args: unmatched ${quote} in ${JSON.stringify(text)}`);
  if (inWord) out.push(word);
  return out;
}

/** --sticky needs the port the app is told to listen on: the master takes it, the app gets a private one. */
function parseSticky(raw: RawOptions, env: Record<string, string>): SupervisorOptions['sticky'] {
  const sticky = raw.sticky === undefined ? false : parseBool(raw.sticky, '--sticky');
  const trustProxy = raw.trustProxy === undefined ? false : parseBool(raw.trustProxy, '--trust-proxy');
  if (!sticky) {
    if (trustProxy) usage('--trust-proxy only applies with --sticky (it picks the client address a connection is routed by)');
    return null;
  }
  const port = env.PORT ?? process.env.PORT;
  if (port === undefined || port === '') {
    usage('--sticky needs the app\'s port in PORT (e.g. PORT=3000 supervise app.js --sticky), and an app that listens on process.env.PORT');
  }
  return { port: parseCount(port, 'PORT', { min: 1, max: 65535 }), trustProxy };
}

function parseBool(value: unknown, flag: string): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return usage(`${flag} must be true or false, got ${shown(value)}`);
}

function stringList(value: unknown, flag: string): string[] {
  if (value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  return usage(`${flag} must be a string or a list of strings`);
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
  const cwd = path.resolve(base.cwd ?? process.cwd(), raw.cwd === undefined ? '.' : String(raw.cwd));
  const env = parseEnv(raw.env);
  if (raw.cwd !== undefined && !(existsSync(cwd) && statSync(cwd).isDirectory())) {
    usage(`--cwd: no such directory: ${cwd}`);
  }
  if (raw.script === undefined || raw.script === '') usage('missing the script to run: supervise <script> [options]');
  const script = path.resolve(cwd, String(raw.script));
  if (!existsSync(script)) throw new SuperviseError('ERR_SCRIPT_NOT_FOUND', `script not found: ${script}`);
  if (statSync(script).isDirectory()) throw new SuperviseError('ERR_SCRIPT_NOT_FOUND', `script is a directory: ${script}`);

  const killTimeoutMs = parseDuration(raw.killTimeoutMs ?? 30_000, '--kill-timeout', { allowZero: false });
  const drainTimeoutMs =
    raw.drainTimeoutMs === undefined
      ? Math.max(Math.floor(killTimeoutMs * 0.8), killTimeoutMs - 5_000)
      : parseDuration(raw.drainTimeoutMs, '--drain-timeout');
  if (drainTimeoutMs >= killTimeoutMs) usage('--drain-timeout must be shorter than --kill-timeout');

  const logLevel = String(raw.logLevel ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) usage(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const logFormat = String(raw.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json')) as LogFormat;
  if (logFormat !== 'json' && logFormat !== 'pretty') usage(`--log-format must be json or pretty, got "${logFormat}"`);

  let watch: string[] | null = null;
  if (raw.watch !== undefined && raw.watch !== false) {
    const paths = raw.watch === true ? [] : stringList(raw.watch, '--watch');
    watch = (paths.length > 0 ? paths : [path.dirname(script)]).map((p) => path.resolve(cwd, p));
  }

  const healthPort = raw.healthPort === undefined || raw.healthPort === null
    ? null
    : parseCount(raw.healthPort, '--health-port', { min: 0, max: 65535 });

  const watchdogTimeoutMs = parseDuration(raw.watchdogTimeoutMs ?? 0, '--watchdog-timeout');
  const heartbeatMs = parseDuration(raw.heartbeatMs ?? 1_000, '--heartbeat');
  // A timeout under two heartbeats would kill healthy workers whose beat is merely a little late.
  if (watchdogTimeoutMs > 0 && (heartbeatMs === 0 || watchdogTimeoutMs < 2 * heartbeatMs)) {
    usage(`--watchdog-timeout must be at least twice --heartbeat (${heartbeatMs} ms), got ${watchdogTimeoutMs} ms`);
  }
  const maxRequests = parseCount(raw.maxRequests ?? 0, '--max-requests');
  if (heartbeatMs === 0 && maxRequests > 0) {
    usage('--max-requests needs the heartbeat, which carries the request count: remove --heartbeat 0');
  }

  return {
    script,
    args: stringList(raw.args, 'args'),
    workers: parseWorkers(raw.workers ?? os.availableParallelism()),
    cwd,
    env,
    nodeArgs: splitArgs(raw.nodeArgs),
    killTimeoutMs,
    drainTimeoutMs,
    idleGrace: parseIdleGrace(raw.idleGrace),
    readyTimeoutMs: parseDuration(raw.readyTimeoutMs ?? 30_000, '--ready-timeout', { allowZero: false }),
    autoDrain: raw.autoDrain === undefined ? true : parseBool(raw.autoDrain, '--auto-drain'),
    surge: parseCount(raw.surge ?? 1, '--surge', { min: 1, max: 1024 }),
    accept: parseAccept(raw.accept),
    sticky: parseSticky(raw, env),
    maxDraining:
      raw.maxDraining === undefined || raw.maxDraining === null
        ? null
        : parseCount(raw.maxDraining, '--max-draining', { min: 1, max: 1024 }),
    restartDelayMs: parseDuration(raw.restartDelayMs ?? 100, '--restart-delay'),
    restartDelayMaxMs: parseDuration(raw.restartDelayMaxMs ?? 10_000, '--restart-delay-max'),
    stableUptimeMs: parseDuration(raw.stableUptimeMs ?? 30_000, '--stable-uptime'),
    crashLimit: parseCount(raw.crashLimit ?? 5, '--crash-limit', { min: 1 }),
    crashWindowMs: parseDuration(raw.crashWindowMs ?? 60_000, '--crash-window', { allowZero: false }),
    watchdogTimeoutMs,
    heartbeatMs,
    maxMemoryMb: parseCount(raw.maxMemoryMb ?? 0, '--max-memory'),
    maxRequests,
    maxAgeMs: parseDuration(raw.maxAgeMs ?? 0, '--max-age'),
    watch,
    ignore: [...DEFAULT_IGNORE, ...stringList(raw.ignore, '--ignore')],
    watchDebounceMs: parseDuration(raw.watchDebounceMs ?? 200, '--watch-debounce'),
    watchPoll: raw.watchPoll === undefined ? false : parseBool(raw.watchPoll, '--watch-poll'),
    control: raw.control === undefined || raw.control === null ? null : path.resolve(cwd, String(raw.control)),
    pidFile: raw.pidFile === undefined || raw.pidFile === null ? null : path.resolve(cwd, String(raw.pidFile)),
    healthPort,
    healthHost: raw.healthHost === undefined || raw.healthHost === '' ? '127.0.0.1' : String(raw.healthHost),
    logLevel,
    logFormat,
  };
}
