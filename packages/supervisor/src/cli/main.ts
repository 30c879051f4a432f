import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import type { Command } from 'commander';

import { addControlCommands } from './commands.js';
import { findConfigFile, type LoadedConfig, loadConfig, loadConfigFile, mergeOptions } from '../config/config-file.js';
import { EXIT, EXIT_CODES, SuperviseError } from '../errors.js';
import { isEcosystemScript } from '../config/ecosystem-detect.js';
import { effective, originsOf, setEffective, WorkerCount } from '../config/effective.js';
import { noEnvBlock, splitEnvFlag } from '../config/env-select.js';
import { logicalCwd } from '../config/logical-cwd.js';
import { CLI_ONLY_FLAGS, helpText, OPTION_KEYS, OPTIONS } from '../config/option-table.js';
import { type OptionKey, type RawOptions, resolveOptions, type SupervisorOptions } from '../config/options.js';
import { MASTER_SIGNALS } from '../master/signals.js';
import { guardStdio, writeOut } from '../observe/stdio.js';
import { optimizeIfConnectionsPass } from './optimizer.js';
import { closest, mistypedCommand } from './suggest.js';
import { requireCjs } from '../require-cjs.js';

const commander = requireCjs('commander') as typeof import('commander');
const { CommanderError, Option } = commander;

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** commander's attribute name -> option key, for the flags whose value the user actually gave (see flagsOf). */
const FLAGS: Record<string, OptionKey> = {};

/** The signals, one line per action (SIGTERM and SIGINT share theirs), from the master's table. */
function signalsHelp(): string {
  const byHelp = new Map<string, string[]>();
  for (const { signal, help } of MASTER_SIGNALS) byHelp.set(help, [...(byHelp.get(help) ?? []), signal]);
  return [...byHelp].map(([help, signals]) => `  ${signals.join(', ').padEnd(16)} ${help}`).join('\n');
}

/** The exit codes, one a line, from their table. */
function exitCodesHelp(): string {
  return Object.values(EXIT_CODES)
    .map(({ code, meaning }) => `  ${String(code).padStart(3)} ${meaning}`)
    .join('\n');
}

const HELP_AFTER = `
Examples:
  supervise app.js -w 4                   4 workers; kill -HUP <master pid> for a rolling restart
  supervise app.js --watch src            reload with zero downtime when a file in src changes
  supervise --watch src app.js            the same: the last file after --watch is the script
  PORT=3000 supervise app.js --sticky     one worker per client (socket.io, in-memory sessions)
  supervise app.js -w max --health-port 9090   /health, /live and /metrics on 127.0.0.1:9090
  supervise status | top | logs -f | reload | scale +2 | stop | list
  supervise systemd app.js -w 4           print a systemd unit that runs this command

Signals to the master:
${signalsHelp()}

Exit codes:
${exitCodesHelp()}`;

export function buildProgram(
  run: (script: string | undefined, args: string[], cmd: Command) => Promise<void>,
): Command {
  const program = new commander.Command('supervise')
    .description('Run a Node.js server as a cluster of workers, with zero-downtime restarts and a lossless stop.')
    .version(pkg.version, '-v, --version')
    .argument('[script]', OPTIONS.script.help)
    .argument('[args...]', OPTIONS.args.help);
  // Every option from the one table; its attribute name (commander's) maps back to the option's key.
  for (const key of OPTION_KEYS) {
    const spec = OPTIONS[key];
    if (!spec.flags) continue;
    const option = new Option(spec.flags, helpText(spec));
    if (spec.repeatable) option.argParser(collect);
    if (spec.choices) option.choices(spec.choices);
    program.addOption(option);
    FLAGS[option.attributeName()] = key;
  }
  for (const { flags, help } of CLI_ONLY_FLAGS) program.option(flags, help);
  program
    .addHelpText('after', HELP_AFTER)
    .showHelpAfterError(false)
    .allowExcessArguments(false)
    .action(async (script: string | undefined, args: string[], _opts: unknown, cmd: Command) => run(script, args, cmd));
  addControlCommands(program);
  // `supervise help status`: without it, "help" would be taken for the script.
  program.helpCommand('help [command]', 'show the help of a command');
  return program;
}

/** The commands of the program `cmd` belongs to, for a mistyped one's suggestion. */
function commandNames(cmd: Command): string[] {
  return [...cmd.commands.map((c) => c.name()), 'help'];
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

export function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

export function fail(message: string, code: number): never {
  process.stderr.write(`supervise: ${message}\n`);
  process.exit(code);
}

export interface Prepared {
  options: SupervisorOptions;
  configFile: string | null;
  /** What the user typed: it keeps winning over the config file when a reload re-reads it. */
  flags: RawOptions;
  app: string | undefined;
  config: LoadedConfig | null;
  /** `--env production`: the PM2 file's env_production, again at every re-read. */
  envName: string | null;
}

/** From the command line and the config file to validated options: shared by a run and `supervise systemd`. */
export async function prepare(
  script: string | undefined,
  args: string[],
  cmd: Command,
  appOverride?: string,
): Promise<Prepared> {
  const { config: explicit, app: appFlag } = cmd.opts<{ config?: string; app?: string }>();
  const app = appOverride ?? appFlag;
  let configFile = findConfigFile(explicit);
  // `supervise ecosystem.config.js`, as `pm2 start ecosystem.config.js`: the file is the configuration.
  if (
    script !== undefined &&
    isFile(path.resolve(logicalCwd(), script)) &&
    isEcosystemScript(path.resolve(logicalCwd(), script))
  ) {
    if (explicit !== undefined)
      throw new SuperviseError(
        'ERR_USAGE',
        `${script} is a PM2 ecosystem file, and --config names another: give one of them`,
      );
    configFile = path.resolve(logicalCwd(), script);
    script = undefined;
  }
  const given = flagsOf(cmd);
  // `supervise --watch src app.js`: the variadic --watch took the script too; the last path that is a file is it.
  if (script === undefined && Array.isArray(given.watch) && given.watch.length > 0) {
    const last = String(given.watch.at(-1));
    if (isFile(path.resolve(logicalCwd(), last))) {
      script = last;
      given.watch = given.watch.length > 1 ? given.watch.slice(0, -1) : true;
    }
  }
  const { pairs, name: envName } = splitEnvFlag(given.env);
  given.env = pairs;
  if (envName !== null && !configFile) throw noEnvBlock(envName, 'no config file was given');
  const mistyped = script === undefined ? null : mistypedCommand(script, commandNames(cmd), logicalCwd());
  if (mistyped) throw mistyped;
  const flags: RawOptions = { ...given, script, args };
  const config = configFile ? await loadConfig(configFile, app, { envName }) : null;
  if (app !== undefined && !config)
    throw new SuperviseError('ERR_USAGE', '--app names an app of a PM2 ecosystem file: give the file');
  const raw: RawOptions = mergeOptions(config?.raw ?? {}, flags);
  if (raw.script === undefined)
    throw new SuperviseError('ERR_USAGE', "missing required argument 'script' (or a config file that names it)");
  return { options: resolveOptions(raw), configFile, flags, app, config, envName };
}

async function runSupervisor(script: string | undefined, args: string[], cmd: Command): Promise<void> {
  const { options, configFile, flags, app, config, envName } = await prepare(script, args, cmd);
  optimizeIfConnectionsPass(options);
  // Loaded here, not at the top: the control commands (`supervise status`) and --version need none of it. The file
  // watcher only with --watch, or when a config file may turn it on at a reload.
  const [{ Supervisor }, { startOperations }, { attachOutput }, { installSignals }, watch] = await Promise.all([
    import('../master/supervisor.js'),
    import('../master/ops.js'),
    import('../observe/output.js'),
    import('../master/signals.js'),
    options.watch || configFile ? import('../master/watch.js') : null,
  ]);
  // Built first: a bad --watch path or --ignore pattern is a usage error before any worker starts.
  let watcher = options.watch && watch ? new watch.FileWatcher(options) : null;
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
    const ops = await startOperations(supervisor, { defaultControl: true });
    await supervisor.start();
    ops.started();
    await watcher?.start(supervisor);
  } catch (err) {
    if (err instanceof SuperviseError) fail(err.message, err.exitCode);
    throw err;
  }
}

/** The commands that take a run's arguments (`supervise systemd app.js -w 4`): parsed by their own modules. */
const WITH_RUN_ARGS: Record<string, () => Promise<(argv: string[]) => Promise<void>>> = {
  systemd: async () => (await import('./systemd-command.js')).printSystemdUnits,
  config: async () => (await import('./config-command.js')).showConfig,
};

export async function main(argv: string[]): Promise<void> {
  const own = Object.hasOwn(WITH_RUN_ARGS, argv[2] ?? '') ? WITH_RUN_ARGS[argv[2]!] : undefined;
  // Their --help is commander's, from the commands registered for it (commands.ts).
  if (own && !argv.slice(3).some((a) => a === '-h' || a === '--help')) {
    try {
      await (await own())(argv.slice(3));
    } catch (err) {
      if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : EXIT.usage);
      if (err instanceof SuperviseError) fail(err.message, err.exitCode);
      fail(`internal error: ${err instanceof Error ? err.message : String(err)}`, EXIT.internal);
    }
    return;
  }
  const program = buildProgram(runSupervisor);
  program.exitOverride();
  program.configureOutput({
    writeErr: (s) => process.stderr.write(s),
    // One line: commander puts its "(Did you mean --workers?)" on a second one.
    outputError: (s, write) =>
      write(
        `supervise: ${s
          .replace(/^error: /, '')
          .trim()
          .replace(/\s*\n\s*\(Did you mean/, ' (did you mean')}\n`,
      ),
  });
  // Subcommands copy these settings when created, which was before they were set.
  for (const sub of program.commands) sub.copyInheritedSettings(program);
  // `help help` is the main help; `help satus` one line with the command meant, not the main help.
  if (argv[2] === 'help' && argv[3] !== undefined) {
    if (argv[3] === 'help') argv = argv.slice(0, 3);
    else if (!program.commands.some((c) => c.name() === argv[3])) {
      const meant = closest(argv[3], commandNames(program));
      fail(`help: no command "${argv[3]}"${meant ? ` (did you mean ${meant}?)` : ''}`, EXIT.usage);
    }
  }
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0)
        process.exit(0);
      process.exit(EXIT.usage);
    }
    if (err instanceof SuperviseError) fail(err.message, err.exitCode);
    fail(`internal error: ${err instanceof Error ? err.message : String(err)}`, EXIT.internal);
  }
}
