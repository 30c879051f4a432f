import { CONTROL_COMMANDS } from '../control/api.js';

/** The commands the CLI registers by hand (commands.ts); the control API's come from its entries. */
export const HAND_COMMANDS: readonly string[] = ['list', 'top', 'systemd', 'config'];

/**
 * Every command the full program registers, `help` included: what a run's arguments must not name
 * (plain-run.ts), and what a mistyped one is suggested from.
 */
export const COMMAND_NAMES: ReadonlySet<string> = new Set([...CONTROL_COMMANDS, ...HAND_COMMANDS, 'help']);
