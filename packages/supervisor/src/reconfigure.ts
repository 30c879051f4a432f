import type { SupervisorOptions } from './options.js';

/**
 * What a reload may change of a running master (it re-reads its config file first, as gunicorn's HUP does):
 * everything a new worker is started with, and the master's limits, but not what the master bound or chose at
 * its start. Those are named, and wait for the next start.
 */
export const FIXED_OPTIONS: readonly (keyof SupervisorOptions)[] = [
  'control',
  'pidFile',
  'healthPort',
  'healthHost',
  'logFormat',
  'accept',
  'sticky',
];

/** Options that a new FileWatcher must be built for. */
export const WATCH_OPTIONS: readonly (keyof SupervisorOptions)[] = ['watch', 'ignore', 'watchDebounceMs', 'watchPoll'];

export interface OptionsChange {
  /** Keys whose value differs and that apply now. */
  live: (keyof SupervisorOptions)[];
  /** Keys whose value differs but that apply only at the next start of the master. */
  fixed: (keyof SupervisorOptions)[];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function diffOptions(current: SupervisorOptions, next: SupervisorOptions): OptionsChange {
  const change: OptionsChange = { live: [], fixed: [] };
  for (const key of Object.keys(next) as (keyof SupervisorOptions)[]) {
    if (same(current[key], next[key])) continue;
    (FIXED_OPTIONS.includes(key) ? change.fixed : change.live).push(key);
  }
  return change;
}

/** Copies the live keys of `next` into `target` (the supervisor's own options object, read at each use). */
export function applyLive(target: SupervisorOptions, next: SupervisorOptions, keys: readonly (keyof SupervisorOptions)[]): void {
  const t = target as unknown as Record<string, unknown>;
  const n = next as unknown as Record<string, unknown>;
  for (const key of keys) t[key] = n[key];
}
