import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import type { Command } from 'commander';

import { findConfigFile, type LoadedConfig, loadConfig, mergeOptions } from '../config/config-file.js';
import { EXIT_CODES, SuperviseError } from '../errors.js';
import { isEcosystemScript } from '../config/ecosystem-detect.js';
import { noEnvBlock, splitEnvFlag } from '../config/env-select.js';
import { logicalCwd } from '../config/logical-cwd.js';
import { CLI_ONLY_FLAGS, helpText, OPTION_KEYS, OPTIONS } from '../config/option-table.js';
import { type OptionKey, type RawOptions, resolveOptions, type SupervisorOptions } from '../config/options.js';
import { MASTER_SIGNALS } from '../master/signals.js';
import { reportUpgradeFailure } from '../master/upgrade/messages.js';
import { mistypedCommand } from './suggest.js';
import { requireCjs } from '../require-cjs.js';
import { COMMAND_NAMES } from './command-names.js';
import { VERSION_FLAGS } from './plain-run.js';

const commander = requireCjs('commander') as typeof import('commander');
const { Option } = commander;

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

/**
 * The program of a run: its options and arguments, no subcommands. The full CLI adds them (commands.ts's
 * addCommands); a run from the bin has none (master-main.ts).
 */
export function buildProgram(
  run: (script: string | undefined, args: string[], cmd: Command) => Promise<void>,
): Command {
  const program = new commander.Command('supervise')
    .description('Run a Node.js server as a cluster of workers, with zero-downtime restarts and a lossless stop.')
    .version(pkg.version, VERSION_FLAGS.join(', '))
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

export function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

export function fail(message: string, code: number): never {
  process.stderr.write(`supervise: ${message}\n`);
  reportUpgradeFailure(message);
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
  const mistyped = script === undefined ? null : mistypedCommand(script, [...COMMAND_NAMES], logicalCwd());
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
