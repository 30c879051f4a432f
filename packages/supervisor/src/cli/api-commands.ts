import type { Command } from 'commander';

import { CONTROL_API, CONTROL_COMMANDS, type ControlCommand, type OwnActionCommand } from '../control/api.js';
import type { Fields } from '../control/fields.js';

/**
 * `supervise <command>` for every command of the control API (control/api.ts): its arguments, flags and help
 * come from the command's entry; what it does runs from cli/control-actions.ts, loaded when one runs.
 */
const actions = () => import('./control-actions.js');

export const SOCKET_HELP = 'control socket of the master (default: the one started from this directory)';
export const APP_HELP = 'the master of this app, where several were started from one directory';

function hasOwnAction(name: ControlCommand): name is OwnActionCommand {
  const { cli } = CONTROL_API[name];
  return cli !== null && 'action' in cli;
}

function addApiCommand(program: Command, name: ControlCommand): void {
  const entry = CONTROL_API[name];
  const { cli } = entry;
  if (cli === null) return;
  const fields: Fields = entry.fields;
  const sub = program.command(name).description(entry.summary);
  const args: readonly (readonly [string, string])[] = cli.args ?? [];
  for (const [field, shown] of args) sub.argument(shown, fields[field]?.doc);
  const flags: Record<string, string | undefined> = cli.flags ?? {};
  for (const [field, text] of Object.entries(flags)) if (text !== undefined) sub.option(text, fields[field]?.doc);
  for (const [text, help] of cli.options ?? []) sub.option(text, help);
  sub
    .option('--control <path>', SOCKET_HELP)
    .option('--app <name>', APP_HELP)
    .option('--json', 'print the answer as JSON')
    .action(async (...given: unknown[]) => {
      const cmd = given.at(-1) as Command;
      const positional = given.slice(0, args.length) as string[];
      const run = await actions();
      await (hasOwnAction(name) ? run.OWN_ACTIONS[name](cmd) : run.sendAndPrint(name, positional, cmd));
    });
}

export function addApiCommands(program: Command): void {
  for (const name of CONTROL_COMMANDS) addApiCommand(program, name);
}
