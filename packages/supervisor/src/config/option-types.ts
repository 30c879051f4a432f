import type { AcceptName } from '../accept/index.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type LogFormat = 'json' | 'pretty';

/** Every option, validated, with defaults applied. Built once at the edge (CLI, config file, API). */
export interface SupervisorOptions {
  script: string;
  args: string[];
  workers: number;
  cwd: string;
  env: Record<string, string>;
  /** Absolute paths of .env files, read at the start and before every rollout; `env` wins over them. */
  envFile: string[];
  nodeArgs: string[];
  /** --node: the binary the workers run on (a path, or a name looked up in PATH); null: the master's own. */
  node: string | null;
  killTimeoutMs: number;
  /** The worker's own drain deadline: shorter than the kill timeout, so it can force, ack and exit first. */
  drainTimeoutMs: number;
  /** The drain's idle rule: 'keep-alive' (the app's own keepAliveTimeout) or a fixed grace in ms. */
  idleGrace: 'keep-alive' | number;
  readyTimeoutMs: number;
  /**
   * The port whose listening makes a worker ready (an app with several servers names its main one); null: the
   * ports the slot's previous worker listened on, else PORT, else the first server that listens.
   */
  readyOn: number | null;
  autoDrain: boolean;
  surge: number;
  /** How connections reach the workers: one shared listening socket, or the primary's round-robin. */
  accept: AcceptName;
  /**
   * How IPC messages between the master and the workers are encoded: node's `json`, or `advanced` (structured
   * clone: Buffers, Maps, Dates), which socket.io's cluster adapter needs for binary broadcasts.
   */
  ipcSerialization: 'json' | 'advanced';
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
  /** Health-gated rollouts (config/entries/canary.ts). */
  canary: boolean;
  canaryWorkers: number;
  canaryRequests: number;
  canaryTimeMs: number;
  canaryWarmup: number;
  canaryMinRequests: number;
  canaryMaxErrorRate: number;
  canaryMaxErrorRatio: number;
  canaryMaxP99Ratio: number;
  canaryP99AllowanceMs: number;
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
  /** --log-file: the master's log and the workers' output go there; null: stdout and stderr. */
  logFile: string | null;
  /** Rotation of the log file (log-file.ts): bytes, ms (0: off) and rotated files kept. */
  logMaxSize: number;
  logMaxAgeMs: number;
  logKeep: number;
}

/** Options a user gives that are not a field of their own: each is folded into another (trustProxy into sticky). */
export interface FoldedOptions {
  trustProxy: boolean;
}

/** Every option's resolved value, by key: SupervisorOptions and the folded ones. */
export type OptionValues = SupervisorOptions & FoldedOptions;

/** The keys a user may give: the options, and the ones folded into another (trustProxy into sticky). */
export type OptionKey = keyof OptionValues;

/** What a user may give, from flags, a config file or the API: loosely typed, validated by resolveOptions. */
export type RawOptions = Partial<Record<OptionKey, unknown>>;

/**
 * What a reload (SIGHUP, `supervise reload`, a watch reload: each re-reads the config file) does with an option
 * whose value changed. Every option says which, so that none is live on a running master by omission.
 */
export type ReloadRule =
  /** Read at each use: the next fork, rollout, check or drain takes the new value. */
  | 'live'
  /** node:cluster's fork settings are set again (setupCluster): the workers forked from then on take it. */
  | 'fork'
  /** The worker count: the master scales to it once the reload's rollout is done. */
  | 'scale'
  /** The master's logger takes the new level at once. */
  | 'log-level'
  /** The CLI builds a new file watcher with it. */
  | 'watcher'
  /** Bound or chosen when the master started (a socket, a port, an encoding): named in the log, applied at the next start. */
  | 'restart';

/** Checks a loose value (a config file's, the API's) and throws a one-line error that names `name`. */
export type Check = (value: unknown, name: string) => void;

/** What an option's parser may read besides its own value. */
export interface ResolveContext {
  /** Another option's resolved value, resolved on first use: an option may depend on others in any order. */
  get<K extends OptionKey>(key: K): OptionValues[K];
  /** The directory a relative --cwd is taken from. */
  baseDir: string;
  /** A path made absolute against the workers' working directory (--cwd). */
  path(p: string): string;
}

/**
 * One option, whole: what the CLI, the config file, resolveOptions, the reload and docs/options.md read. Adding an
 * option is one entry (option-table.ts), its field in SupervisorOptions, its use and its test.
 */
export interface OptionEntry<T> {
  /** commander's flags; none for what only a config file or the API gives (script, args). */
  flags?: string;
  /** The --help line. */
  help: string;
  /** More than the help line says, for docs/options.md. */
  doc?: string;
  /** The default parse() is given when the user gave nothing (null and undefined both count as nothing). */
  default?: T;
  /** The default as the help and the docs say it, when it is not a plain value (computed, or "off"). */
  defaultText?: string;
  /** What a value looks like, for docs/options.md: "a duration", "an integer from 1 to 1024". */
  value: string;
  /** A repeatable flag: each value is collected into a list. */
  repeatable?: boolean;
  choices?: readonly string[];
  /** The config file's check of the value as the file wrote it; the error names the key. */
  check: Check;
  /**
   * The value resolveOptions keeps: the user's (a flag's string, a config file's or the API's value), else the
   * default. `name` is the flag an error names (`--kill-timeout`), or the key for options without a flag.
   */
  parse(value: unknown, name: string, ctx: ResolveContext): T;
  /** What a reload does when the value changed: required, so that adding an option means deciding it. */
  reload: ReloadRule;
}

/** The option table's type: an entry for every key, whose parser gives that key's type. */
export type OptionTable = { [K in OptionKey]: OptionEntry<OptionValues[K]> };
