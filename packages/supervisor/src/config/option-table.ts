import { ACCEPT_NAMES } from '../accept/index.js';
import { SuperviseError } from '../errors.js';
import type { OptionKey } from './option-types.js';
import {
  DEFAULT_ACCEPT,
  LOG_LEVELS,
  MAX_WORKERS,
  parseAccept,
  parseCount,
  parseDuration,
  parseEnv,
  parseIdleGrace,
  parseWorkers,
  shown,
} from './option-parse.js';

/**
 * Every option, once: its flag and help for the CLI, its check for a config file, the default the help
 * names and resolveOptions applies. Adding an option is one entry here (and its field in SupervisorOptions,
 * which resolveOptions fills): the commander options, the config file's keys and checks come from this table.
 */

/** Checks a loose value (a config file's, the API's) and throws a one-line error that names `name`. */
export type Check = (value: unknown, name: string) => void;

export interface OptionSpec {
  /** commander's flags; none for what only a config file or the API gives (script, args). */
  flags?: string;
  help?: string;
  /** The default, as the help says it. */
  defaultText?: string;
  /** The default resolveOptions applies, for options that have a plain one. */
  default?: unknown;
  /** A repeatable flag: each value is collected into a list. */
  repeatable?: boolean;
  choices?: readonly string[];
  check: Check;
}

function bad(key: string, what: string, value: unknown): never {
  throw new SuperviseError('ERR_CONFIG', `${key} must be ${what}, got ${shown(value)}`);
}

const duration =
  (allowZero = true): Check =>
  (v, k) =>
    void parseDuration(v, k, { allowZero });
const count =
  (min = 0, max?: number): Check =>
  (v, k) =>
    void parseCount(v, k, max === undefined ? { min } : { min, max });
const bool: Check = (v, k) => {
  if (typeof v !== 'boolean') bad(k, 'true or false', v);
};
const text: Check = (v, k) => {
  if (typeof v !== 'string' || v === '') bad(k, 'a non-empty string', v);
};
const textOrNull: Check = (v, k) => {
  if (v !== null) text(v, k);
};
const textList: Check = (v, k) => {
  if (!(typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'))))
    bad(k, 'a string or a list of strings', v);
};
const oneOf =
  (allowed: readonly string[]): Check =>
  (v, k) => {
    if (typeof v !== 'string' || !allowed.includes(v)) bad(k, `one of ${allowed.join(', ')}`, v);
  };

/** Keyed by every OptionKey: an option without an entry does not compile. */
export const OPTIONS: Record<OptionKey, OptionSpec> = {
  script: { check: text },
  args: {
    check: (v, k) => {
      if (!(Array.isArray(v) && v.every((x) => typeof x === 'string'))) bad(k, 'a list of strings', v);
    },
  },
  workers: {
    flags: '-w, --workers <n|max>',
    help: 'number of workers',
    defaultText: 'available parallelism',
    check: (v, k) => void parseWorkers(v, k),
  },
  killTimeoutMs: {
    flags: '--kill-timeout <ms>',
    help: 'a draining worker is SIGKILLed after this',
    default: 30_000,
    check: duration(false),
  },
  drainTimeoutMs: {
    flags: '--drain-timeout <ms>',
    help: "the worker's own drain deadline, shorter than the kill timeout",
    defaultText: '80%',
    check: duration(),
  },
  idleGrace: {
    flags: '--idle-grace <keep-alive|ms>',
    help: 'how long an idle keep-alive socket stays open in a drain',
    defaultText: "keep-alive: the app's keepAliveTimeout",
    check: (v, k) => void parseIdleGrace(v, k),
  },
  readyTimeoutMs: {
    flags: '--ready-timeout <ms>',
    help: 'a new worker must be ready within this',
    default: 30_000,
    check: duration(false),
  },
  nodeArgs: {
    flags: '--node-args <args>',
    help: 'node options for the workers, e.g. "--import tsx --max-old-space-size=512"',
    check: textList,
  },
  cwd: { flags: '--cwd <dir>', help: 'working directory of the workers (and base of relative paths)', check: text },
  env: {
    flags: '--env <KEY=VAL>',
    help: 'set an environment variable for the workers (repeatable)',
    repeatable: true,
    check: (v, k) => {
      const scalar = (x: unknown) => ['string', 'number', 'boolean'].includes(typeof x);
      if (Array.isArray(v)) parseEnv(v);
      else if (!(typeof v === 'object' && v !== null && Object.values(v).every(scalar))) {
        bad(k, 'an object of strings (or a list of "KEY=VALUE")', v);
      }
    },
  },
  envFile: {
    flags: '--env-file <path>',
    help: 'read environment variables for the workers from a .env file (repeatable), again at every reload; --env wins',
    repeatable: true,
    check: textList,
  },
  node: {
    flags: '--node <path>',
    help: "the node binary the workers run on, checked and read again at every reload (default: the master's own)",
    check: textOrNull,
  },
  autoDrain: {
    flags: '--no-auto-drain',
    help: 'do not preload the drain engine into apps that do not import the SDK',
    default: true,
    check: bool,
  },
  accept: {
    flags: `--accept <${ACCEPT_NAMES.join('|')}>`,
    help: 'how connections reach the workers; shared: the workers accept from one socket',
    default: DEFAULT_ACCEPT,
    defaultText: `${DEFAULT_ACCEPT}; round-robin with --no-auto-drain`,
    check: (v, k) => void parseAccept(v, k),
  },
  sticky: {
    flags: '--sticky',
    help: 'every connection of a client goes to the same worker (socket.io, in-memory sessions); the app must listen on process.env.PORT',
    default: false,
    check: bool,
  },
  trustProxy: {
    flags: '--trust-proxy',
    help: 'with --sticky: the client is the first X-Forwarded-For (or Forwarded) hop, for apps behind a proxy',
    default: false,
    check: bool,
  },
  ipcSerialization: {
    flags: '--ipc-serialization <json|advanced>',
    help: "how messages between the master and the workers are encoded; advanced: Buffers too (socket.io's cluster adapter with binary data)",
    default: 'json',
    check: oneOf(['json', 'advanced']),
  },
  surge: {
    flags: '--surge <n>',
    help: 'extra workers that may start at once during a rollout',
    default: 1,
    check: count(1, MAX_WORKERS),
  },
  maxDraining: {
    flags: '--max-draining <n>',
    help: 'old workers that may drain at once; each holds its memory until its last request ends',
    defaultText: 'the number of workers',
    check: count(1, MAX_WORKERS),
  },
  watch: {
    flags: '--watch [paths...]',
    help: 'reload on file changes',
    defaultText: "the script's directory",
    check: (v, k) => {
      if (typeof v !== 'boolean') textList(v, k);
    },
  },
  ignore: {
    flags: '--ignore <glob>',
    help: 'a path the watcher ignores (repeatable)',
    repeatable: true,
    check: textList,
  },
  watchDebounceMs: {
    flags: '--watch-debounce <ms>',
    help: 'quiet time after a change before the reload',
    default: 200,
    check: duration(),
  },
  watchPoll: {
    flags: '--watch-poll',
    help: 'poll instead of inotify (network file systems, some containers)',
    default: false,
    check: bool,
  },
  restartDelayMs: {
    flags: '--restart-delay <ms>',
    help: 'base delay of the crash backoff',
    default: 100,
    check: duration(),
  },
  restartDelayMaxMs: {
    flags: '--restart-delay-max <ms>',
    help: 'cap of the crash backoff',
    default: 10_000,
    check: duration(),
  },
  stableUptimeMs: {
    flags: '--stable-uptime <ms>',
    help: 'uptime after which a crash no longer counts toward backoff',
    default: 30_000,
    check: duration(),
  },
  crashLimit: {
    flags: '--crash-limit <n>',
    help: 'boot failures within --crash-window that stop the master',
    default: 5,
    check: count(1),
  },
  crashWindowMs: {
    flags: '--crash-window <ms>',
    help: 'window of the crash limit',
    default: 60_000,
    check: duration(false),
  },
  watchdogTimeoutMs: {
    flags: '--watchdog-timeout <ms>',
    help: 'replace a worker whose event loop is silent this long',
    default: 0,
    defaultText: '0: off',
    check: duration(),
  },
  heartbeatMs: { flags: '--heartbeat <ms>', help: 'worker heartbeat interval', default: 1_000, check: duration() },
  maxMemoryMb: {
    flags: '--max-memory <MB>',
    help: 'recycle a worker whose RSS exceeds this',
    default: 0,
    defaultText: '0: off',
    check: count(),
  },
  maxRequests: {
    flags: '--max-requests <n>',
    help: 'recycle a worker after about this many requests',
    default: 0,
    defaultText: '0: off',
    check: count(),
  },
  maxAgeMs: {
    flags: '--max-age <duration>',
    help: 'recycle a worker older than this, e.g. 6h',
    default: 0,
    defaultText: '0: off',
    check: duration(),
  },
  control: { flags: '--control <path>', help: 'control socket path', check: textOrNull },
  pidFile: { flags: '--pid-file <path>', help: "write the master's pid to this file", check: textOrNull },
  healthPort: {
    flags: '--health-port <port>',
    help: 'serve /health (200 at full capacity, else 503), /live and /metrics for load balancers, probes and Prometheus',
    check: (v, k) => {
      if (v !== null) parseCount(v, k, { min: 0, max: 65535 });
    },
  },
  healthHost: {
    flags: '--health-host <address>',
    help: 'address of the health endpoint; give 0.0.0.0 for probes from outside, as in Kubernetes',
    default: '127.0.0.1',
    check: text,
  },
  logLevel: { flags: '--log-level <level>', help: LOG_LEVELS.join(', '), default: 'info', check: oneOf(LOG_LEVELS) },
  logFormat: {
    flags: '--log-format <format>',
    help: 'json or pretty',
    defaultText: 'pretty in a terminal',
    choices: ['json', 'pretty'],
    check: oneOf(['json', 'pretty']),
  },
};

export const OPTION_KEYS = Object.keys(OPTIONS) as OptionKey[];

/** The help line of an option: its text and the default it names. */
export function helpText(spec: OptionSpec): string {
  const def =
    spec.defaultText ??
    (spec.default === undefined || typeof spec.default === 'boolean' ? undefined : String(spec.default));
  return def === undefined ? (spec.help ?? '') : `${spec.help ?? ''} (default ${def})`;
}

/** The plain default of an option (see OptionSpec.default). */
export function optionDefault<T>(key: OptionKey): T {
  return OPTIONS[key].default as T;
}
