declare const __SUPERVISE_COMMAND_NAMES__: readonly string[] | undefined;

/**
 * The names of the CLI's commands (command-names.ts's COMMAND_NAMES), written into the bin by the build
 * (scripts/bundle.mjs), which so tells a run from a command without loading the commands' table. Undefined in
 * tsc's output (dist/cli.js), which then always loads the full CLI.
 */
export const BUILT_COMMAND_NAMES: ReadonlySet<string> | undefined =
  typeof __SUPERVISE_COMMAND_NAMES__ === 'undefined' ? undefined : new Set(__SUPERVISE_COMMAND_NAMES__);

/**
 * A run (`supervise app.js -w 4`, or `supervise` where a config file names the app): no word that names a
 * command, and no --help. Anything else gets the full CLI. A run's program needs no subcommands, and runs from
 * the master's own bundle (master-main.ts): the commands' code is then not in the master's heap
 * (bench/RESULTS-cost.md has what that saves).
 */
export function isRun(args: readonly string[], commands: ReadonlySet<string>): boolean {
  return !args.some((a) => a === '-h' || a === '--help' || commands.has(a));
}

/** The flags of `supervise --version`: program.ts registers them, and the bin tells a run that starts nothing. */
export const VERSION_FLAGS: readonly string[] = ['-v', '--version'];
