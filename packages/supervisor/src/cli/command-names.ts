import { CONTROL_COMMANDS } from '../control/api.js';
import { looksLikeRun } from './plain-run.js';

/** The commands the CLI registers by hand (commands.ts); the control API's come from its entries. */
export const HAND_COMMANDS: readonly string[] = ['list', 'top', 'systemd', 'config'];

/** Every command the full program registers, `help` included. */
export const COMMAND_NAMES: ReadonlySet<string> = new Set([...CONTROL_COMMANDS, ...HAND_COMMANDS, 'help']);

/**
 * A run of a file (`supervise app.js -w 4`): a word that names a file, and none that names a command or asks
 * for help. It runs from the master's own bundle (master-main.ts), whose program has no subcommands: neither
 * their code nor their objects are in the master's heap (bench/RESULTS-cost.md has what that saves). Anything
 * else (a command, --help, a mistyped command, which is suggested from the commands) gets the full CLI.
 */
export function isPlainRun(args: readonly string[]): boolean {
  return !args.some((a) => COMMAND_NAMES.has(a)) && looksLikeRun(args);
}
