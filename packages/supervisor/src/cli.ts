#!/usr/bin/env node
import { readFileSync } from 'node:fs';

import { Command, CommanderError, Option } from 'commander';

import { addControlCommands } from './commands.js';
import { findConfigFile, loadConfigFile, mergeOptions } from './config-file.js';
import { EXIT, SuperviseError } from './errors.js';
import { startOperations } from './ops.js';
import { type RawOptions, resolveOptions } from './options.js';
import { WATCH_OPTIONS } from './reconfigure.js';
import { attachOutput } from './output.js';
import { installSignals } from './signals.js';
import { guardStdio, writeOut } from './stdio.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** Flag name -> option key, for the flags whose value the user actually gave (the config file fills the rest). */
const FLAGS: Record<string, keyof RawOptions> = {
  workers: 'workers',
  killTimeout: 'killTimeoutMs',
  drainTimeout: 'drainTimeoutMs',
  idleGrace: 'idleGrace',
  readyTimeout: 'readyTimeoutMs',
  nodeArgs: 'nodeArgs',
  cwd: 'cwd',
  env: 'env',
  autoDrain: 'autoDrain',
  surge: 'surge',
  accept: 'accept',
  sticky: 'sticky',
  trustProxy: 'trustProxy',
  maxDraining: 'maxDraining',
  restartDelay: 'restartDelayMs',
  restartDelayMax: 'restartDelayMaxMs',
  stableUptime: 'stableUptimeMs',
  crashLimit: 'crashLimit',
  crashWindow: 'crashWindowMs',
  watchdogTimeout: 'watchdogTimeoutMs',
  heartbeat: 'heartbeatMs',
  maxMemory: 'maxMemoryMb',
  maxRequests: 'maxRequests',
  maxAge: 'maxAgeMs',
  watch: 'watch',
  ignore: 'ignore',
  watchDebounce: 'watchDebounceMs',
  watchPoll: 'watchPoll',
  control: 'control',
  pidFile: 'pidFile',
  healthPort: 'healthPort',
  healthHost: 'healthHost',
  logLevel: 'logLevel',
  logFormat: 'logFormat',
};

const collect = (value: string, previous: string[] = []) => [...previous, value];

function buildProgram(run: (script: string | undefined, args: string[], cmd: Command) => Promise<void>): Command {
  const program = new Command('supervise')
    .description('Run a Node.js server as a cluster of workers, with zero-downtime restarts and a lossless stop.')
    .version(pkg.version, '-v, --version')
    .argument('[script]', 'the app to run (CJS, ESM, or TypeScript with --node-args "--import tsx")')
    .argument('[args...]', 'arguments for the app, after --')
    .option('-w, --workers <n|max>', 'number of workers (default: available parallelism)')
    .option('--kill-timeout <ms>', 'a draining worker is SIGKILLed after this (default 30000)')
    .option('--drain-timeout <ms>', "the worker's own drain deadline, shorter than the kill timeout (default 80%)")
    .option('--idle-grace <keep-alive|ms>', "how long an idle keep-alive socket stays open in a drain (default keep-alive: the app's keepAliveTimeout)")
    .option('--ready-timeout <ms>', 'a new worker must be ready within this (default 30000)')
    .option('--node-args <args>', 'node options for the workers, e.g. "--import tsx --max-old-space-size=512"')
    .option('--cwd <dir>', 'working directory of the workers (and base of relative paths)')
    .option('--env <KEY=VAL>', 'set an environment variable for the workers (repeatable)', collect)
    .option('--no-auto-drain', 'do not preload the drain engine into apps that do not import the SDK')
    .option('--accept <round-robin|shared>', 'how connections reach the workers (default round-robin; shared: workers accept from one socket)')
    .option('--sticky', "every connection of a client goes to the same worker (socket.io, in-memory sessions); the app must listen on process.env.PORT")
    .option('--trust-proxy', 'with --sticky: the client is the first X-Forwarded-For (or Forwarded) hop, for apps behind a proxy')
    .option('--surge <n>', 'extra workers that may start at once during a rollout (default 1)')
    .option('--max-draining <n>', 'old workers that may drain at once; each holds its memory until its last request ends (default: the number of workers)')
    .option('--watch [paths...]', "reload on file changes (default: the script's directory)")
    .option('--ignore <glob>', 'a path the watcher ignores (repeatable)', collect)
    .option('--watch-debounce <ms>', 'quiet time after a change before the reload (default 200)')
    .option('--watch-poll', 'poll instead of inotify (network file systems, some containers)')
    .option('--restart-delay <ms>', 'base delay of the crash backoff (default 100)')
    .option('--restart-delay-max <ms>', 'cap of the crash backoff (default 10000)')
    .option('--stable-uptime <ms>', 'uptime after which a crash no longer counts toward backoff (default 30000)')
    .option('--crash-limit <n>', 'boot failures within --crash-window that stop the master (default 5)')
    .option('--crash-window <ms>', 'window of the crash limit (default 60000)')
    .option('--watchdog-timeout <ms>', 'replace an SDK worker silent for this long (default 0: off)')
    .option('--heartbeat <ms>', 'worker heartbeat interval (default 1000)')
    .option('--max-memory <MB>', 'recycle a worker whose RSS exceeds this (default 0: off)')
    .option('--max-requests <n>', 'recycle a worker after about this many requests (default 0: off)')
    .option('--max-age <duration>', 'recycle a worker older than this, e.g. 6h (default 0: off)')
    .option('--control <path>', 'control socket path')
    .option('--pid-file <path>', "write the master's pid to this file")
    .option('--health-port <port>', 'serve /health (200 at full capacity, else 503) for load balancers and probes')
    .option('--health-host <address>', 'address of the health endpoint (default 127.0.0.1; 0.0.0.0 in a container)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (default info)')
    .addOption(new Option('--log-format <format>', 'json or pretty (default: pretty in a terminal)').choices(['json', 'pretty']))
    .option('--config <path>', 'config file (default: supervise.config.{json,js,mjs} in the working directory)')
    .showHelpAfterError(false)
    .allowExcessArguments(false)
    .action(async (script: string | undefined, args: string[], _opts: unknown, cmd: Command) => run(script, args, cmd));
  addControlCommands(program);
  return program;
}

function flagsOf(cmd: Command): RawOptions {
  const raw: RawOptions = {};
  const values = cmd.opts<Record<string, unknown>>();
  for (const [flag, key] of Object.entries(FLAGS)) {
    const source = cmd.getOptionValueSource(flag);
    if (source === 'cli' || source === 'env') raw[key] = values[flag];
  }
  return raw;
}

function fail(message: string, code: number): never {
  process.stderr.write(`supervise: ${message}\n`);
  process.exit(code);
}

async function runSupervisor(script: string | undefined, args: string[], cmd: Command): Promise<void> {
  // The config file gives defaults; the flags the user typed override it.
  const configFile = findConfigFile(cmd.opts<{ config?: string }>().config);
  const flags: RawOptions = { ...flagsOf(cmd), script, args };
  const raw: RawOptions = mergeOptions(configFile ? await loadConfigFile(configFile) : {}, flags);
  if (raw.script === undefined) throw new SuperviseError('ERR_USAGE', "missing required argument 'script' (or a config file that names it)");
  const options = resolveOptions(raw);
  // Loaded here, not at the top: the control commands (`supervise status`) start in half the time without them.
  const [{ Supervisor }, { FileWatcher }] = await Promise.all([import('./supervisor.js'), import('./watch.js')]);
  // Built first: a bad --watch path or --ignore pattern is a usage error before any worker starts.
  let watcher = options.watch ? new FileWatcher(options) : null;
  const supervisor = new Supervisor(options);
  if (configFile) {
    supervisor.log.info({ event: 'config.loaded', file: configFile }, `configuration from ${configFile}`);
    // Every reload re-reads the file first; the flags typed on the command line keep winning over it.
    supervisor.setOptionsSource(async () => {
      const next = resolveOptions(mergeOptions(await loadConfigFile(configFile), flags));
      if (next.watch) new FileWatcher(next); // a bad path refuses the reload, rather than the watcher failing later
      return next;
    });
    supervisor.on('options:changed', (keys) => {
      if (!keys.some((k) => WATCH_OPTIONS.includes(k))) return;
      const previous = watcher;
      watcher = supervisor.options.watch ? new FileWatcher(supervisor.options) : null;
      const next = watcher;
      const failed = (err: unknown) => supervisor.log.error({ event: 'watch.failed', error: String(err) }, `the new file watcher failed: ${err instanceof Error ? err.message : String(err)}`);
      void Promise.resolve(previous?.close())
        .then(() => next?.start(supervisor))
        .catch(failed);
      supervisor.log.info({ event: 'watch.changed', paths: watcher?.roots ?? [] }, watcher ? `watching ${watcher.roots.join(', ')}` : 'no longer watching files');
    });
  }
  // From here on the master serves: a lost stdout or stderr must not take it down.
  guardStdio();
  attachOutput(supervisor, options.logFormat);
  installSignals(supervisor);
  // A fatal error (crash loop, port in use) ends in a stop, at boot or later: say why in one line.
  supervisor.once('stopped', (code) => {
    if (supervisor.fatal) writeOut(2, `supervise: ${supervisor.fatal.message}\n`);
    process.exit(code);
  });
  try {
    const ops = await startOperations(supervisor, { defaultControl: true });
    await supervisor.start();
    ops.started();
    await watcher?.start(supervisor);
  } catch (err) {
    if (err instanceof SuperviseError) fail(err.message, err.exitCode);
    throw err;
  }
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram(runSupervisor);
  program.exitOverride();
  program.configureOutput({
    writeErr: (s) => process.stderr.write(s),
    outputError: (s, write) => write(`supervise: ${s.replace(/^error: /, '').trim()}\n`),
  });
  // Subcommands copy these settings when created, which was before they were set.
  for (const sub of program.commands) sub.copyInheritedSettings(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) process.exit(0);
      process.exit(EXIT.usage);
    }
    if (err instanceof SuperviseError) fail(err.message, err.exitCode);
    fail(`internal error: ${err instanceof Error ? err.message : String(err)}`, EXIT.internal);
  }
}

await main(process.argv);
