import { setupCluster } from '../worker/cluster-setup.js';
import type { Logger } from '../observe/logger.js';
import { FOLDED, OPTION_KEYS, OPTIONS } from './option-table.js';
import type { ReloadRule } from './option-types.js';
import type { SupervisorOptions } from './options.js';

/**
 * What a reload may change of a running master (it re-reads its config file first, as gunicorn's HUP does):
 * everything a new worker is started with, and the master's limits, but not what the master bound or chose at
 * its start. Each option's entry says which (its `reload` rule, option-table.ts); those fixed at the start are
 * named, and wait for the next start.
 */
const ruleOf = (key: keyof SupervisorOptions): ReloadRule => OPTIONS[key].reload;

/** Options that a new FileWatcher must be built for. */
export const WATCH_OPTIONS: readonly (keyof SupervisorOptions)[] = OPTION_KEYS.filter(
  (k): k is keyof SupervisorOptions => !Object.hasOwn(FOLDED, k) && OPTIONS[k].reload === 'watcher',
);

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
    (ruleOf(key) === 'restart' ? change.fixed : change.live).push(key);
  }
  return change;
}

/** Copies the live keys of `next` into `target` (the supervisor's own options object, read at each use). */
export function applyLive(
  target: SupervisorOptions,
  next: SupervisorOptions,
  keys: readonly (keyof SupervisorOptions)[],
): void {
  const t = target as unknown as Record<string, unknown>;
  const n = next as unknown as Record<string, unknown>;
  for (const key of keys) t[key] = n[key];
}

/** What bounds a re-read: --ready-timeout, and the stop (a load still pending then is abandoned). */
export interface SourceLimits {
  timeoutMs: number;
  signal: AbortSignal;
}

export interface ReconfigureHost {
  /** Where the options are re-read from (the CLI: the config file and the flags); null: they stay as they are. */
  source: ((limits: SourceLimits) => Promise<SupervisorOptions>) | null;
  signal: AbortSignal;
  /**
   * What the options name beyond themselves (their .env files, their node), read for the options about to
   * apply: vet throws to refuse them; commit makes them current once the reload is accepted, discard drops them.
   */
  inputs?: { vet(next: SupervisorOptions): Promise<void>; commit(): void; discard(): void };
  /** The supervisor's own options object: changed in place, read at each use. */
  options: SupervisorOptions;
  log: Logger;
  slots(): number;
  scale(target: number): Promise<void>;
  changed(keys: (keyof SupervisorOptions)[]): void;
}

/** Re-reads the options before a rollout and applies them; returns why they were refused (nothing changes), or null. */
export async function reloadOptions(host: ReconfigureHost): Promise<string | null> {
  const { log, options } = host;
  let next: SupervisorOptions;
  try {
    next = host.source ? await host.source({ timeoutMs: options.readyTimeoutMs, signal: host.signal }) : options;
    await host.inputs?.vet(next);
  } catch (err) {
    host.inputs?.discard();
    const why = err instanceof Error ? err.message : String(err);
    // A stop began: nothing was refused, the rollout simply does not run.
    if (host.signal.aborted) return why;
    log.error({ event: 'config.invalid', error: why }, `reload refused, the running configuration stays: ${why}`);
    return why;
  }
  host.inputs?.commit();
  // Without a source the options stay: only what they name (the .env files, the node) was read again.
  if (!host.source) return null;
  const change = diffOptions(options, next);
  if (change.fixed.length > 0) {
    log.warn(
      { event: 'config.fixed', keys: change.fixed },
      `changed in the configuration but applied only at the next start of the master: ${change.fixed.join(', ')}`,
    );
  }
  const live = change.live.filter((k) => ruleOf(k) !== 'scale');
  applyLive(options, next, live);
  if (live.some((k) => ruleOf(k) === 'log-level')) log.level = next.logLevel;
  // node:cluster takes the new script, arguments, node options and directory for the forks to come.
  if (live.some((k) => ruleOf(k) === 'fork')) setupCluster(options);
  if (change.live.some((k) => ruleOf(k) === 'scale') && next.workers !== host.slots()) {
    // After this rollout (scale() waits for it), so that the new slots start with the new configuration.
    const target = next.workers;
    queueMicrotask(
      () =>
        void host
          .scale(target)
          .catch((err: unknown) =>
            log.error({ event: 'scale.failed', error: String(err) }, `scale to ${target} failed: ${String(err)}`),
          ),
    );
  }
  log.info(
    { event: 'config.reloaded', changed: change.live },
    change.live.length
      ? `configuration re-read: ${change.live.join(', ')} changed`
      : 'configuration re-read: unchanged',
  );
  if (live.length > 0) host.changed(live);
  return null;
}
