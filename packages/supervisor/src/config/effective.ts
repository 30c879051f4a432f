import type { Logger } from '../observe/logger.js';
import { FOLDED, flagName, OPTION_KEYS } from './option-table.js';
import type { OptionKey, RawOptions, SupervisorOptions } from './options.js';

/**
 * Where each option in effect came from (`supervise config`), and the worker count's own rule: a runtime
 * `supervise scale` outlives reloads until the configuration's count itself changes, as a PM2 user expects of
 * `pm2 scale`, and the log says which source decided the count.
 */

/** flag: the command line; file: the config file; flag+file: the env of both; scale: `supervise scale`. */
export type Origin = 'flag' | 'file' | 'flag+file' | 'default' | 'scale';

export interface OptionInEffect {
  key: string;
  /** The flag that sets it (`--workers`), or the key for the options without one. */
  flag: string;
  value: unknown;
  origin: Origin;
}

export interface EffectiveConfig {
  file: string | null;
  app: string | null;
  /** The PM2 keys the file has that supervise does not read, each with why. */
  ignored: string[];
  origins: Partial<Record<OptionKey, Origin>>;
}

/** The origin of every key the user set: the flags', the file's, or both (env: the flags' over the file's). */
export function originsOf(flags: RawOptions, file: RawOptions): Partial<Record<OptionKey, Origin>> {
  const origins: Partial<Record<OptionKey, Origin>> = {};
  for (const key of OPTION_KEYS) {
    const inFlags = flags[key] !== undefined && !(key === 'args' && Array.isArray(flags.args) && !flags.args.length);
    const inFile = file[key] !== undefined;
    if (inFlags) origins[key] = key === 'env' && inFile ? 'flag+file' : 'flag';
    else if (inFile) origins[key] = 'file';
  }
  return origins;
}

/** Every option of `options` with where it came from; `workers` says scale when a runtime scale holds. */
export function optionsInEffect(
  options: SupervisorOptions,
  effective: EffectiveConfig,
  scaled: boolean,
): OptionInEffect[] {
  const values = options as unknown as Record<string, unknown>;
  return OPTION_KEYS.filter((k) => !Object.hasOwn(FOLDED, k)).map((key) => ({
    key,
    flag: flagName(key),
    value: values[key] ?? null,
    origin: key === 'workers' && scaled ? 'scale' : (effective.origins[key] ?? 'default'),
  }));
}

const workersText = (n: number) => `${n} worker${n === 1 ? '' : 's'}`;

const SAID: Record<Origin, string> = {
  flag: 'the command line (-w)',
  file: 'the config file',
  'flag+file': 'the command line',
  default: 'the default (one per core)',
  scale: '`supervise scale`',
};

/**
 * The worker count across reloads. `configured` is the count the configuration (flags over file) asked for at
 * the last read; a running count that differs from it was set by `supervise scale`.
 */
export class WorkerCount {
  constructor(
    private configured: number,
    private origin: Origin,
  ) {}

  /** Whether a runtime scale holds the count now. */
  scaled(running: number): boolean {
    return running !== this.configured;
  }

  /** At the start: which source decided the count. */
  logStart(log: Logger): void {
    log.info(
      { event: 'workers.source', source: this.origin, workers: this.configured },
      `${workersText(this.configured)}, from ${SAID[this.origin]}`,
    );
  }

  /**
   * At a reload, before the re-read options apply: the count they ask for, unless the configuration's count is
   * unchanged and a runtime scale holds, which then stays.
   */
  decide(next: SupervisorOptions, nextOrigin: Origin, running: number, log: Logger): number {
    const asked = next.workers;
    const previous = this.configured;
    this.configured = asked;
    this.origin = nextOrigin;
    if (asked === previous && running !== asked) {
      log.info(
        { event: 'workers.source', source: 'scale', workers: running, configured: asked },
        `${workersText(running)}, from \`supervise scale\`: kept, since ${SAID[nextOrigin]} still asks for ${asked} (a change of that count applies)`,
      );
      return running;
    }
    if (asked !== running)
      log.info(
        { event: 'workers.source', source: nextOrigin, workers: asked, previous: running },
        `${workersText(asked)}, from ${SAID[nextOrigin]}${asked !== previous ? ` (it asked for ${previous} before)` : ''}`,
      );
    return asked;
  }
}

let current: EffectiveConfig = { file: null, app: null, ignored: [], origins: {} };
let count: WorkerCount | null = null;

/** The CLI records what it started the master with (one master per process), and again at each re-read. */
export function setEffective(next: EffectiveConfig, workers?: WorkerCount): void {
  current = next;
  if (workers) count = workers;
}

export function effective(): { config: EffectiveConfig; workers: WorkerCount | null } {
  return { config: current, workers: count };
}
