import { bool, count, duration, type Kind } from '../option-kinds.js';
import { MAX_WORKERS, parseBool, shown, usage } from '../option-parse.js';
import type { OptionTable } from '../option-types.js';

/** A number within bounds, or a percentage (`1%` is 0.01) when `percent`. */
function amount(min: number, max: number, { percent = false } = {}): Kind<number> {
  const parse = (v: unknown, name: string): number => {
    const text = String(v).trim();
    const pct = percent && text.endsWith('%');
    const n = typeof v === 'number' ? v : /^\d+(\.\d+)?%?$/.test(text) ? Number(text.replace('%', '')) : Number.NaN;
    const value = pct ? n / 100 : n;
    if (!Number.isFinite(value) || value < min || value > max || (!percent && text.endsWith('%')))
      usage(
        `${name} must be a number from ${min} to ${max}${percent ? ' (or a percentage: 1%)' : ''}, got ${shown(v)}`,
      );
    return value;
  };
  return {
    value: `a number from ${min} to ${max}${percent ? ', or a percentage (1%)' : ''}`,
    check: (v, k) => void parse(v, k),
    parse,
  };
}

/** Health-gated rollouts: the canary phase and the limits its verdict applies. */
export function canaryOptions(): Pick<
  OptionTable,
  | 'canary'
  | 'canaryWorkers'
  | 'canaryRequests'
  | 'canaryTimeMs'
  | 'canaryWarmup'
  | 'canaryMinRequests'
  | 'canaryMaxErrorRate'
  | 'canaryMaxErrorRatio'
  | 'canaryMaxP99Ratio'
  | 'canaryP99AllowanceMs'
> {
  return {
    canary: {
      ...bool,
      flags: '--canary',
      help: 'every rollout first bakes a canary beside the old workers and rolls back if it does worse',
      doc: '`supervise reload --canary` / `--no-canary` decide for one rollout; reloads on file changes (--watch) never bake. Needs the heartbeat.',
      default: false,
      parse: (v, name, ctx) => {
        const on = parseBool(v ?? false, name);
        if (on && ctx.get('heartbeatMs') === 0)
          usage('--canary needs the heartbeat, which carries the counts it compares: remove --heartbeat 0');
        return on;
      },
      reload: 'live',
    },
    canaryWorkers: {
      ...count(1, MAX_WORKERS),
      flags: '--canary-workers <n>',
      help: 'how many new workers bake as the canary (extra workers, beside all the old ones)',
      default: 1,
      reload: 'live',
    },
    canaryRequests: {
      ...count(1),
      flags: '--canary-requests <n>',
      help: 'the bake ends once the canary served this many requests after its warm-up',
      default: 1_000,
      reload: 'live',
    },
    canaryTimeMs: {
      ...duration({ allowZero: false }),
      flags: '--canary-time <duration>',
      help: 'the bake ends after this long at most (from the canary being ready)',
      default: 60_000,
      reload: 'live',
    },
    canaryWarmup: {
      ...count(0),
      flags: '--canary-warmup <n>',
      help: "the canary's first requests, left out of the comparison (a fresh process runs cold); at most half of --canary-time",
      default: 2_000,
      reload: 'live',
    },
    canaryMinRequests: {
      ...count(0),
      flags: '--canary-min-requests <n>',
      help: 'below this many requests in the bake there is no verdict: the rollout goes on, with a warning',
      default: 100,
      reload: 'live',
    },
    canaryMaxErrorRate: {
      ...amount(0, 1, { percent: true }),
      flags: '--canary-max-error-rate <rate>',
      help: "the canary fails above this share of 5xx and reset requests (unless the old workers' own rate, times --canary-max-error-ratio, is higher)",
      default: 0.01,
      defaultText: '1%',
      reload: 'live',
    },
    canaryMaxErrorRatio: {
      ...amount(1, 1_000),
      flags: '--canary-max-error-ratio <x>',
      help: "the canary fails above the old workers' error rate times this (when that is above --canary-max-error-rate)",
      default: 2,
      reload: 'live',
    },
    canaryMaxP99Ratio: {
      ...amount(1, 1_000),
      flags: '--canary-max-p99-ratio <x>',
      help: "the canary fails when its p99 latency is above the old workers' times this, plus --canary-p99-allowance",
      default: 2,
      reload: 'live',
    },
    canaryP99AllowanceMs: {
      ...duration(),
      flags: '--canary-p99-allowance <duration>',
      help: 'added to the p99 limit: a fresh process runs colder than the old ones, and at a few ms one garbage collection is the difference',
      default: 5,
      defaultText: '5ms',
      reload: 'live',
    },
  };
}
