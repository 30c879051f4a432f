import { duration, count } from '../option-kinds.js';
import { parseCount, parseDuration, usage } from '../option-parse.js';
import type { OptionTable } from '../option-types.js';

/** Crash restarts, the watchdog and recycling. */
export function restartOptions(): Pick<
  OptionTable,
  | 'restartDelayMs'
  | 'restartDelayMaxMs'
  | 'stableUptimeMs'
  | 'crashLimit'
  | 'crashWindowMs'
  | 'watchdogTimeoutMs'
  | 'heartbeatMs'
  | 'maxMemoryMb'
  | 'maxRequests'
  | 'maxAgeMs'
> {
  return {
    restartDelayMs: {
      ...duration(),
      flags: '--restart-delay <ms>',
      help: 'base delay of the crash backoff',
      default: 100,
      reload: 'live',
    },
    restartDelayMaxMs: {
      ...duration(),
      flags: '--restart-delay-max <ms>',
      help: 'cap of the crash backoff',
      default: 10_000,
      reload: 'live',
    },
    stableUptimeMs: {
      ...duration(),
      flags: '--stable-uptime <ms>',
      help: 'uptime after which a crash no longer counts toward backoff',
      default: 30_000,
      reload: 'live',
    },
    crashLimit: {
      ...count(1),
      flags: '--crash-limit <n>',
      help: 'boot failures within --crash-window that stop the master',
      doc: 'The master then exits 3.',
      default: 5,
      reload: 'live',
    },
    crashWindowMs: {
      ...duration({ allowZero: false }),
      flags: '--crash-window <ms>',
      help: 'window of the crash limit',
      default: 60_000,
      reload: 'live',
    },
    watchdogTimeoutMs: {
      ...duration(),
      flags: '--watchdog-timeout <ms>',
      help: 'replace a worker whose event loop is silent this long',
      doc: 'At least twice --heartbeat.',
      default: 0,
      defaultText: '0: off',
      parse: (v, name, ctx) => {
        const ms = parseDuration(v, name);
        const heartbeatMs = ctx.get('heartbeatMs');
        // A timeout under two heartbeats would kill healthy workers whose beat is merely a little late.
        if (ms > 0 && (heartbeatMs === 0 || ms < 2 * heartbeatMs)) {
          usage(`--watchdog-timeout must be at least twice --heartbeat (${heartbeatMs} ms), got ${ms} ms`);
        }
        return ms;
      },
      reload: 'live',
    },
    heartbeatMs: {
      ...duration(),
      flags: '--heartbeat <ms>',
      help: 'worker heartbeat interval',
      doc: 'The heartbeat carries the request count and the load; 0 turns it off.',
      default: 1_000,
      reload: 'live',
    },
    maxMemoryMb: {
      ...count(),
      flags: '--max-memory <MB>',
      help: 'recycle a worker whose RSS exceeds this',
      doc: 'Recycling takes the zero-downtime path: the replacement is ready before the worker drains.',
      default: 0,
      defaultText: '0: off',
      reload: 'live',
    },
    maxRequests: {
      ...count(),
      flags: '--max-requests <n>',
      help: 'recycle a worker after about this many requests',
      default: 0,
      defaultText: '0: off',
      parse: (v, name, ctx) => {
        const n = parseCount(v, name);
        if (ctx.get('heartbeatMs') === 0 && n > 0) {
          usage('--max-requests needs the heartbeat, which carries the request count: remove --heartbeat 0');
        }
        return n;
      },
      reload: 'live',
    },
    maxAgeMs: {
      ...duration(),
      flags: '--max-age <duration>',
      help: 'recycle a worker older than this, e.g. 6h',
      default: 0,
      defaultText: '0: off',
      reload: 'live',
    },
  };
}
