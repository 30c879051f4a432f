import { readFileSync, realpathSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Command } from 'commander';

import { addControlCommands } from './commands.js';
import {
  ecosystemAppNames,
  findConfigFile,
  isEcosystemFile,
  type LoadedConfig,
  loadConfig,
  loadConfigFile,
  mergeOptions,
} from '../config/config-file.js';
import { EXIT, EXIT_CODES, SuperviseError } from '../errors.js';
import { logicalCwd } from '../config/logical-cwd.js';
import { CLI_ONLY_FLAGS, helpText, OPTION_KEYS, OPTIONS } from '../config/option-table.js';
import { type OptionKey, type RawOptions, resolveOptions, type SupervisorOptions } from '../config/options.js';
import { MASTER_SIGNALS } from '../master/signals.js';
import { guardStdio, writeOut } from '../observe/stdio.js';
import { optimizeIfConnectionsPass } from './optimizer.js';
import { reportUpgradeFailure } from '../master/upgrade-messages.js';
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
  supervise status | top | logs -f | reload | scale +2 | stop | list | upgrade
  supervise systemd app.js -w 4           print a systemd unit that runs this command

Signals to the master:
${signalsHelp()}

Exit codes:
${exitCodesHelp()}`;

function buildProgram(run: (script: string | undefined, args: string[], cmd: Command) => Promise<void>): Command {
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

function flagsOf(cmd: Command): RawOptions {
  const raw: RawOptions = {};
  const values = cmd.opts<Record<string, unknown>>();
  for (const [flag, key] of Object.entries(FLAGS)) {
    const source = cmd.getOptionValueSource(flag);
    if (source === 'cli' || source === 'env') raw[key] = values[flag];
  }
  return raw;
}

/** The name of the project in `dir`: its package.json's name (without a scope), else the directory's name. */
function projectName(dir: string): string {
  try {
    const name = (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name;
    if (typeof name === 'string' && name) return name.replace(/^@[^/]+\//, '');
  } catch {
    // no package.json, or not JSON
  }
  return path.basename(dir);
}

/** A word as a POSIX shell reads it back. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function fail(message: string, code: number): never {
  process.stderr.write(`supervise: ${message}\n`);
  reportUpgradeFailure(message);
  process.exit(code);
}

interface Prepared {
  options: SupervisorOptions;
  configFile: string | null;
  /** What the user typed: it keeps winning over the config file when a reload re-reads it. */
  flags: RawOptions;
  app: string | undefined;
  config: LoadedConfig | null;
}

/** From the command line and the config file to validated options: shared by a run and `supervise systemd`. */
async function prepare(
  script: string | undefined,
  args: string[],
  cmd: Command,
  appOverride?: string,
): Promise<Prepared> {
  const { config: explicit, app: appFlag } = cmd.opts<{ config?: string; app?: string }>();
  const app = appOverride ?? appFlag;
  let configFile = findConfigFile(explicit);
  // `supervise ecosystem.config.js`, as `pm2 start ecosystem.config.js`: the file is the configuration.
  if (script !== undefined && isEcosystemFile(script) && isFile(path.resolve(logicalCwd(), script))) {
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
  const flags: RawOptions = { ...given, script, args };
  const config = configFile ? await loadConfig(configFile, app) : null;
  if (app !== undefined && !config)
    throw new SuperviseError('ERR_USAGE', '--app names an app of a PM2 ecosystem file: give the file');
  const raw: RawOptions = mergeOptions(config?.raw ?? {}, flags);
  if (raw.script === undefined)
    throw new SuperviseError('ERR_USAGE', "missing required argument 'script' (or a config file that names it)");
  return { options: resolveOptions(raw), configFile, flags, app, config };
}

async function runSupervisor(script: string | undefined, args: string[], cmd: Command): Promise<void> {
  const { options, configFile, flags, app, config } = await prepare(script, args, cmd);
  optimizeIfConnectionsPass(options);
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
  const supervisor = new Supervisor(options);
  if (configFile) {
    supervisor.log.info(
      { event: 'config.loaded', file: configFile, app: config?.app ?? undefined },
      `configuration from ${configFile}`,
    );
    for (const note of config?.notes ?? [])
      supervisor.log.info({ event: 'config.note', file: configFile }, `${path.basename(configFile)}: ${note}`);
    // Every reload re-reads the file first; the flags typed on the command line keep winning over it.
    supervisor.setOptionsSource(async (limits) => {
      supervisor.log.info({ event: 'config.reading', file: configFile }, `re-reading ${path.basename(configFile)}`);
      const next = resolveOptions(mergeOptions(await loadConfigFile(configFile, app, limits), flags));
      if (next.watch && watch) new watch.FileWatcher(next); // a bad path refuses the reload, not the watcher later
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

/** argv[1] when it is this CLI under another name (a symlink such as `current/node_modules/.bin/supervise`). */
function invokedCli(): string | null {
  const given = process.argv[1];
  if (!given || !path.isAbsolute(given)) return null;
  try {
    return realpathSync(given) === realpathSync(fileURLToPath(new URL('../cli.js', import.meta.url))) ? given : null;
  } catch {
    return null;
  }
}

/**
 * `supervise systemd [--name NAME] [--user USER] <the command's arguments>`: the unit on stdout, how to install it
 * on stderr. The arguments go through the same parsing as a run, so a bad one fails here, not under systemd.
 */
async function printSystemdUnits(argv: string[]): Promise<void> {
  const rest = [...argv];
  const take = (flag: string): string | undefined => {
    const i = rest.indexOf(flag);
    if (i === -1) return undefined;
    const value = rest[i + 1];
    if (value === undefined || value.startsWith('-'))
      throw new SuperviseError('ERR_USAGE', `systemd: ${flag} needs a value`);
    rest.splice(i, 2);
    return value;
  };
  const name = take('--name');
  const user = take('--user') ?? os.userInfo().username;
  const program = buildProgram(async (script, args, cmd) => {
    const { renderUnit, unitName } = await import('./systemd-unit.js');
    const picked = cmd.opts<{ app?: string }>().app;
    // An ecosystem file with several apps and none picked: one unit each (one master per app).
    const file =
      script !== undefined && isEcosystemFile(script)
        ? path.resolve(logicalCwd(), script)
        : cmd.opts<{ config?: string }>().config;
    const names =
      picked === undefined && file !== undefined && isFile(path.resolve(logicalCwd(), file))
        ? await ecosystemAppNames(path.resolve(logicalCwd(), file))
        : [];
    const apps = names.length > 1 ? names : [undefined];
    // The CLI as it was invoked (`/srv/app/current/node_modules/.bin/supervise`), not the release it resolves to,
    // which a later deploy deletes; and the logical directory, since systemd gives the service no $PWD.
    const cli = invokedCli() ?? fileURLToPath(new URL('../cli.js', import.meta.url));
    const givenCwd = rest.some((arg) => arg === '--cwd' || arg.startsWith('--cwd='));
    const cwdArgs = givenCwd || logicalCwd() === process.cwd() ? [] : ['--cwd', logicalCwd()];
    const units = [];
    for (const a of apps) {
      const { options, config } = await prepare(script, args, cmd, a);
      const environment = Object.fromEntries(
        ['PORT', 'HOST', 'NODE_ENV']
          .filter((k) => process.env[k] && options.env[k] === undefined)
          .map((k) => [k, process.env[k]!]),
      );
      const appName = config?.app ?? null;
      const unit = unitName(name && apps.length === 1 ? name : (appName ?? projectName(logicalCwd())));
      const text = renderUnit({
        name: unit,
        description: `${appName ?? path.basename(options.script)} under supervise (${options.workers} workers)`,
        user,
        workingDirectory: logicalCwd(),
        execStart: [process.execPath, cli, ...rest, ...cwdArgs, ...(a !== undefined ? ['--app', a] : [])],
        options,
        environment,
        version: pkg.version,
      });
      units.push({ unit, text });
    }
    writeOut(
      1,
      units
        .map((u) => (units.length > 1 ? `# ---- /etc/systemd/system/${u.unit}.service ----\n${u.text}` : u.text))
        .join('\n'),
    );
    const unitNames = units.map((u) => u.unit);
    writeOut(
      2,
      `\nTo install and start ${unitNames.length > 1 ? 'them (save each unit to its file)' : 'it'}:\n` +
        (unitNames.length === 1
          ? `  supervise systemd ${argv.map(shellWord).join(' ')} | sudo tee /etc/systemd/system/${unitNames[0]}.service\n`
          : '') +
        `  sudo systemctl daemon-reload && sudo systemctl enable --now ${unitNames.join(' ')}\n` +
        `Then: systemctl reload ${unitNames[0]} (rolling restart), journalctl -u ${unitNames[0]} -f (logs), supervise status (from ${logicalCwd()}).\n`,
    );
  });
  program.exitOverride();
  await program.parseAsync(['node', 'supervise', ...rest]);
}

export async function main(argv: string[]): Promise<void> {
  if (argv[2] === 'systemd') {
    try {
      await printSystemdUnits(argv.slice(3));
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
    outputError: (s, write) => write(`supervise: ${s.replace(/^error: /, '').trim()}\n`),
  });
  // Subcommands copy these settings when created, which was before they were set.
  for (const sub of program.commands) sub.copyInheritedSettings(program);
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
