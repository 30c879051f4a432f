import path from 'node:path';

import type { Command } from 'commander';

import { loadConfigFile, mergeOptions } from '../config/config-file.js';
import { EXIT, SuperviseError } from '../errors.js';
import { effective, originsOf, setEffective, WorkerCount } from '../config/effective.js';
import { resolveOptions } from '../config/options.js';
import { guardStdio, writeOut } from '../observe/stdio.js';
import { openLogFile } from '../observe/log-route.js';
import { setMasterV8Flags } from './v8-flags.js';
import { requireCjs } from '../require-cjs.js';
import { buildProgram, fail, prepare } from './program.js';

const { CommanderError } = requireCjs('commander') as typeof import('commander');

/** A run: the master's start, from the parsed command line to its ready workers. */
async function runSupervisor(script: string | undefined, args: string[], cmd: Command): Promise<void> {
  const { options, configFile, flags, app, config, envName } = await prepare(script, args, cmd);
  setMasterV8Flags(options);
  // Loaded here, not at the top: the control commands (`supervise status`) and --version need none of it. The file
  // watcher only with --watch, or when a config file may turn it on at a reload.
  const [{ Supervisor }, { bootMaster }, { attachOutput }, { installSignals }, watch] = await Promise.all([
    import('../master/supervisor.js'),
    import('../master/boot.js'),
    import('../observe/output.js'),
    import('../master/signals.js'),
    options.watch || configFile ? import('../master/watch.js') : null,
  ]);
  // Built first: a bad --watch path or --ignore pattern is a usage error before any worker starts.
  let watcher = options.watch && watch ? new watch.FileWatcher(options) : null;
  openLogFile(options.logFile, { maxBytes: options.logMaxSize, maxAgeMs: options.logMaxAgeMs, keep: options.logKeep });
  const supervisor = new Supervisor(options);
  const origins = originsOf(flags, config?.raw ?? {});
  const workerCount = new WorkerCount(options.workers, origins.workers ?? 'default');
  const ignored = (config?.notes ?? []).filter((n) => n.startsWith('ignored ')).map((n) => n.slice(8));
  setEffective({ file: configFile, app: config?.app ?? null, ignored, origins }, workerCount);
  workerCount.logStart(supervisor.log);
  if (configFile) {
    supervisor.log.info(
      { event: 'config.loaded', file: configFile, app: config?.app ?? undefined },
      `configuration from ${configFile}`,
    );
    // An ignored PM2 key is a setting the user believes in that does nothing here: a warning, not news.
    for (const note of config?.notes ?? [])
      supervisor.log[note.startsWith('ignored ') ? 'warn' : 'info'](
        { event: 'config.note', file: configFile },
        `${path.basename(configFile)}: ${note}`,
      );
    // Every reload re-reads the file first; the flags typed on the command line keep winning over it.
    supervisor.setOptionsSource(async (limits) => {
      supervisor.log.info({ event: 'config.reading', file: configFile }, `re-reading ${path.basename(configFile)}`);
      const fileRaw = await loadConfigFile(configFile, app, { ...limits, envName });
      const next = resolveOptions(mergeOptions(fileRaw, flags));
      if (next.watch && watch) new watch.FileWatcher(next); // a bad path refuses the reload, not the watcher later
      const nextOrigins = originsOf(flags, fileRaw);
      // A runtime `supervise scale` stays while the configuration's own count is the same.
      next.workers = workerCount.decide(
        next,
        nextOrigins.workers ?? 'default',
        supervisor.options.workers,
        supervisor.log,
      );
      setEffective({ ...effective().config, origins: nextOrigins });
      return next;
    });
    const { WATCH_OPTIONS } = await import('../config/reconfigure.js');
    supervisor.on('options:changed', (keys) => {
      if (!keys.some((k) => WATCH_OPTIONS.includes(k))) return;
      const previous = watcher;
      watcher = supervisor.options.watch && watch ? new watch.FileWatcher(supervisor.options) : null;
      const next = watcher;
      const failed = (err: unknown) =>
        supervisor.log.error(
          { event: 'watch.failed', error: String(err) },
          `the new file watcher failed: ${err instanceof Error ? err.message : String(err)}`,
        );
      void Promise.resolve(previous?.close())
        .then(() => next?.start(supervisor))
        .catch(failed);
      supervisor.log.info(
        { event: 'watch.changed', paths: watcher?.roots ?? [] },
        watcher ? `watching ${watcher.roots.join(', ')}` : 'no longer watching files',
      );
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
  // Nothing left to wait for, yet no stopped line: a promise the master waits on can never settle. Say so and
  // exit with the internal error's code, rather than 0 through an empty event loop.
  process.once('beforeExit', () => {
    if (supervisor.phase === 'stopped') return;
    supervisor.log.error(
      { event: 'master.stopped', exitCode: EXIT.internal, phase: supervisor.phase },
      `stopped while ${supervisor.phase}: nothing was left to wait for (a bug in supervise), exit code ${EXIT.internal}`,
    );
    process.exit(EXIT.internal);
  });
  try {
    await bootMaster(supervisor);
    await watcher?.start(supervisor);
  } catch (err) {
    if (err instanceof SuperviseError) fail(err.message, err.exitCode);
    throw err;
  }
}

/** The program of a run, its errors in one line. The full CLI adds the subcommands to it (main.ts). */
export function runProgram(): Command {
  const program = buildProgram(runSupervisor);
  program.exitOverride();
  program.configureOutput({
    // As the master's own lines (observe/stdio.ts): a reader that went away (`supervise --help | head -1`) gets
    // the rest dropped, where node's stream would end in an unhandled EPIPE 'error' and its stack trace.
    writeOut: (s) => writeOut(1, s),
    writeErr: (s) => writeOut(2, s),
    // One line: commander puts its "(Did you mean --workers?)" on a second one.
    outputError: (s, write) =>
      write(
        `supervise: ${s
          .replace(/^error: /, '')
          .trim()
          .replace(/\s*\n\s*\(Did you mean/, ' (did you mean')}\n`,
      ),
  });
  return program;
}

/** Parses the command line and runs what it names; a usage error, a supervise error or a bug ends in its exit code. */
export async function parseAndRun(program: Command, argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    exitOn(err);
  }
}

/** The exit for an error out of a command: commander's (help and --version: 0; else a usage error), ours, or a bug. */
export function exitOn(err: unknown): never {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0)
      process.exit(0);
    process.exit(EXIT.usage);
  }
  if (err instanceof SuperviseError) fail(err.message, err.exitCode);
  fail(`internal error: ${err instanceof Error ? err.message : String(err)}`, EXIT.internal);
}
