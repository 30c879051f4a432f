import { existsSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ACCEPT_NAMES } from '../accept/index.js';
import { SuperviseError } from '../errors.js';
import { bad, bool, count, duration, oneOfCheck, textCheck, textListCheck } from './option-kinds.js';
import { logFileOptions } from './entries/logs.js';
import { masterOptions, watchOptions } from './entries/master.js';
import { restartOptions } from './entries/restart.js';
import { canaryOptions } from './entries/canary.js';
import {
  DEFAULT_ACCEPT,
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
import type { FoldedOptions, OptionEntry, OptionKey, OptionTable, ReloadRule } from './option-types.js';

/**
 * Every option, once (as gunicorn's config.py has one class per setting): its flag and help for the CLI, its
 * check for a config file, its parser and default for resolveOptions, what a reload does with it, and its text
 * for docs/options.md (generated from this table: `pnpm docs:gen`). The table's type asks for an entry per
 * key of SupervisorOptions, with a parser of that key's type and a reload rule.
 */

export const OPTIONS: OptionTable = {
  script: {
    help: 'the app to run (CJS, ESM, or TypeScript with --node-args "--import tsx")',
    value: 'a path, relative to --cwd',
    check: textCheck,
    parse: (v, _name, ctx) => {
      if (v === undefined || v === '') usage('missing the script to run: supervise <script> [options]');
      const script = ctx.path(String(v));
      if (!existsSync(script)) throw new SuperviseError('ERR_SCRIPT_NOT_FOUND', `script not found: ${script}`);
      if (statSync(script).isDirectory())
        throw new SuperviseError('ERR_SCRIPT_NOT_FOUND', `script is a directory: ${script}`);
      return script;
    },
    reload: 'fork',
  },
  args: {
    help: 'arguments for the app, after --',
    value: 'a list of strings',
    check: (v, k) => {
      if (!(Array.isArray(v) && v.every((x) => typeof x === 'string'))) bad(k, 'a list of strings', v);
    },
    parse: (v, name) => stringList(v, name),
    reload: 'fork',
  },
  workers: {
    flags: '-w, --workers <n|max>',
    help: 'number of workers',
    defaultText: 'available parallelism',
    value: `an integer from 1 to ${MAX_WORKERS}, or max (one per core)`,
    check: (v, k) => void parseWorkers(v, k),
    parse: (v, name) => parseWorkers(v ?? os.availableParallelism(), name),
    reload: 'scale',
  },
  killTimeoutMs: {
    ...duration({ allowZero: false }),
    flags: '--kill-timeout <ms>',
    help: 'a draining worker is SIGKILLed after this',
    default: 30_000,
    reload: 'live',
  },
  drainTimeoutMs: {
    ...duration(),
    flags: '--drain-timeout <ms>',
    help: "the worker's own drain deadline, shorter than the kill timeout",
    doc:
      'What is still open then is destroyed (and counted as forced), so that the worker can ack and exit before the kill. ' +
      'Without it: 5 s less than the kill timeout, or 80 % of it when that is longer.',
    defaultText: '80%',
    parse: (v, name, ctx) => {
      const kill = ctx.get('killTimeoutMs');
      const ms = v === undefined ? Math.max(Math.floor(kill * 0.8), kill - 5_000) : parseDuration(v, name);
      if (ms >= kill) usage('--drain-timeout must be shorter than --kill-timeout');
      return ms;
    },
    reload: 'live',
  },
  idleGrace: {
    flags: '--idle-grace <keep-alive|ms>',
    help: 'how long an idle keep-alive socket stays open in a drain',
    doc: "The app's own keep-alive timeout, or a fixed grace.",
    defaultText: "keep-alive: the app's keepAliveTimeout",
    value: 'keep-alive, or a duration',
    check: (v, k) => void parseIdleGrace(v, k),
    parse: (v, name) => parseIdleGrace(v, name),
    reload: 'live',
  },
  readyTimeoutMs: {
    ...duration({ allowZero: false }),
    flags: '--ready-timeout <ms>',
    help: 'a new worker must be ready within this',
    doc: 'Otherwise the rollout rolls back.',
    default: 30_000,
    reload: 'live',
  },
  readyOn: {
    flags: '--ready-on <port>',
    help: "a new worker is ready once it listens on this port (an app's main server, beside a metrics server)",
    defaultText: "the previous worker's ports, else PORT, else the first server that listens",
    doc: 'A worker with several servers (a metrics server first, the main one later) is ready on its main port.',
    value: 'a port from 1 to 65535',
    check: (v, k) => {
      if (v !== null) parseCount(v, k, { min: 1, max: 65535 });
    },
    parse: (v, name) => (v === undefined || v === null ? null : parseCount(v, name, { min: 1, max: 65535 })),
    reload: 'live',
  },
  nodeArgs: {
    flags: '--node-args <args>',
    help: 'node options for the workers, e.g. "--import tsx --max-old-space-size=512"',
    value: 'a string split as a shell splits words, or a list of strings',
    check: textListCheck,
    parse: (v) => splitArgs(v),
    reload: 'fork',
  },
  cwd: {
    flags: '--cwd <dir>',
    help: 'working directory of the workers (and base of relative paths)',
    value: 'a directory',
    check: textCheck,
    parse: (v, _name, ctx) => {
      const cwd = path.resolve(ctx.baseDir, v === undefined ? '.' : String(v));
      if (v !== undefined && !(existsSync(cwd) && statSync(cwd).isDirectory()))
        usage(`--cwd: no such directory: ${cwd}`);
      return cwd;
    },
    reload: 'fork',
  },
  env: {
    flags: '--env <KEY=VAL>',
    help: "set an environment variable for the workers (repeatable), over the config file's env; a bare word (--env production) picks a PM2 file's env_production",
    repeatable: true,
    value: 'KEY=VALUE (repeatable); in a config file an object',
    check: (v, k) => {
      const scalar = (x: unknown) => ['string', 'number', 'boolean'].includes(typeof x);
      if (Array.isArray(v)) parseEnv(v);
      else if (!(typeof v === 'object' && v !== null && Object.values(v).every(scalar))) {
        bad(k, 'an object of strings (or a list of "KEY=VALUE")', v);
      }
    },
    parse: (v) => parseEnv(v),
    reload: 'live',
  },
  envFile: {
    flags: '--env-file <path>',
    help: 'read environment variables for the workers from a .env file (repeatable), again at every reload; --env wins',
    repeatable: true,
    value: 'a path (repeatable; later files win), or a list of paths',
    check: textListCheck,
    parse: (v, name, ctx) => stringList(v, name).map((f) => ctx.path(f)),
    // Read again before every rollout (worker-inputs.ts): a reload applies a changed list at once.
    reload: 'live',
  },
  node: {
    flags: '--node <path>',
    help: "the node binary the workers run on, checked and read again at every reload (default: the master's own)",
    value: 'a path, or a name looked up in PATH',
    check: (v, k) => {
      if (v !== null) textCheck(v, k);
    },
    // A path is kept as given (a symlink such as /usr/local/bin/node is followed at each fork); a bare name is
    // looked up in PATH, as a shell would.
    parse: (v, _name, ctx) =>
      v === undefined || v === null || v === '' ? null : String(v).includes('/') ? ctx.path(String(v)) : String(v),
    reload: 'live',
  },
  autoDrain: {
    ...bool,
    flags: '--no-auto-drain',
    help: 'do not preload the drain engine into apps that do not import the SDK',
    doc: "The master then uses node's disconnect(), SIGTERM, then SIGKILL.",
    default: true,
    reload: 'live',
  },
  accept: {
    flags: `--accept <${ACCEPT_NAMES.join('|')}>`,
    help: 'how connections reach the workers; shared: the workers accept from one socket',
    defaultText: `${DEFAULT_ACCEPT}; round-robin with --no-auto-drain`,
    value: ACCEPT_NAMES.join(' or '),
    check: (v, k) => void parseAccept(v, k),
    // Without the engine in the workers nothing counts or moves keep-alive connections, and a shared socket stays
    // as uneven as the kernel left it: round-robin then, unless --accept says otherwise.
    parse: (v, name, ctx) => parseAccept(v ?? (ctx.get('autoDrain') ? DEFAULT_ACCEPT : 'round-robin'), name),
    reload: 'restart',
  },
  sticky: {
    flags: '--sticky',
    help: 'every connection of a client goes to the same worker (socket.io, in-memory sessions); the app must listen on process.env.PORT',
    value: 'true or false',
    check: bool.check,
    // --sticky needs the port the app is told to listen on: the master takes it, the app gets a private one.
    parse: (v, name, ctx) => {
      const trustProxy = ctx.get('trustProxy');
      if (!parseBool(v ?? false, name)) {
        if (trustProxy)
          usage('--trust-proxy only applies with --sticky (it picks the client address a connection is routed by)');
        return null;
      }
      const port = ctx.get('env').PORT ?? process.env.PORT;
      if (port === undefined || port === '') {
        usage(
          "--sticky needs the app's port in PORT (e.g. PORT=3000 supervise app.js --sticky), and an app that listens on process.env.PORT",
        );
      }
      return { port: parseCount(port, 'PORT', { min: 1, max: 65535 }), trustProxy };
    },
    reload: 'restart',
  },
  trustProxy: {
    ...bool,
    flags: '--trust-proxy',
    help: 'with --sticky: the client is the first X-Forwarded-For (or Forwarded) hop, for apps behind a proxy',
    default: false,
    reload: 'restart',
  },
  ipcSerialization: {
    flags: '--ipc-serialization <json|advanced>',
    help: "how messages between the master and the workers are encoded; advanced: Buffers too (socket.io's cluster adapter with binary data)",
    default: 'json',
    value: 'json or advanced',
    check: oneOfCheck(['json', 'advanced']),
    parse: (v, name) => {
      if (v === 'json' || v === 'advanced') return v;
      return usage(`${name} must be json or advanced, got ${JSON.stringify(v)}`);
    },
    // Old and new workers would speak two encodings to the one master.
    reload: 'restart',
  },
  surge: {
    ...count(1, MAX_WORKERS),
    flags: '--surge <n>',
    help: 'extra workers that may start at once during a rollout',
    doc: 'Serving workers: at most N + surge.',
    default: 1,
    reload: 'live',
  },
  maxDraining: {
    ...count(1, MAX_WORKERS),
    flags: '--max-draining <n>',
    help: 'old workers that may drain at once; each holds its memory until its last request ends',
    defaultText: 'the number of workers',
    parse: (v, name) => (v === undefined || v === null ? null : parseCount(v, name, { min: 1, max: MAX_WORKERS })),
    reload: 'live',
  },
  ...watchOptions(),
  ...restartOptions(),
  ...canaryOptions(),
  ...masterOptions(),
  ...logFileOptions(),
};

export const OPTION_KEYS = Object.keys(OPTIONS) as OptionKey[];

/** The keys folded into another option (not a field of SupervisorOptions of their own), each with its host. */
export const FOLDED: Record<keyof FoldedOptions, OptionKey> = { trustProxy: 'sticky' };

/** Flags of the command line alone: they choose where the options come from. */
export const CLI_ONLY_FLAGS: readonly { flags: string; help: string }[] = [
  {
    flags: '--config <path>',
    help: 'config file (default: supervise.config.{json,js,mjs} in the working directory); a PM2 ecosystem file works too',
  },
  { flags: '--app <name>', help: 'the app of a PM2 ecosystem file with several (one master per app)' },
];

/** What each reload rule means to a user, for docs/options.md. */
export const RELOAD_RULES: Record<ReloadRule, string> = {
  live: 'applies at once: read at each use (the next fork, rollout, check or drain)',
  fork: 'the workers forked from then on (the reload rollout replaces every worker) take it',
  scale: 'the master scales to the new count once the rollout is done',
  'log-level': "the master's log takes the new level at once",
  watcher: 'the file watcher is rebuilt with it',
  restart: 'named in the log (`config.fixed`), applied at the next start of the master',
};

/** The flag an error names (`--kill-timeout`, `--auto-drain` for --no-auto-drain), or the key without a flag. */
export function flagName(key: OptionKey): string {
  const long = /--(?:no-)?([\w-]+)/.exec(OPTIONS[key].flags ?? '');
  return long ? `--${long[1]}` : key;
}

/** The default as the help and the docs say it, or undefined for none to say (a switch). */
export function defaultText(entry: OptionEntry<unknown>): string | undefined {
  if (entry.defaultText !== undefined) return entry.defaultText;
  return entry.default === undefined || typeof entry.default === 'boolean' ? undefined : String(entry.default);
}

/** The help line of an option: its text and the default it names. */
export function helpText(entry: OptionEntry<unknown>): string {
  const def = defaultText(entry);
  return def === undefined ? entry.help : `${entry.help} (default ${def})`;
}
