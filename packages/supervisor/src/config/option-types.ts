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
