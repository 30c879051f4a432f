import type { Command } from 'commander';

import { addApiCommands, APP_HELP, SOCKET_HELP } from './api-commands.js';
import { CONTROL_API } from '../control/api.js';

/**
 * The commands the CLI registers by hand: `list` and `top` (views over `status`), and `systemd` and `config`,
 * which take a run's arguments too. The control API's commands are registered from their entries
 * (api-commands.ts). What each one does is in control-actions.ts, loaded when one runs.
 */
const actions = () => import('./control-actions.js');

/** Every subcommand: the control API's, then these (command-names.ts's HAND_COMMANDS names them). */
export function addCommands(program: Command): void {
  addApiCommands(program);
  addControlCommands(program);
}

function addControlCommands(program: Command): void {
  program
    .command('list')
    .description("this user's running masters: pid, directory, script, workers, uptime")
    .option('--json', 'print the list as JSON')
    .action(async (_opts: unknown, cmd: Command) => (await actions()).list(cmd));
  program
    .command('top')
    .description('a live view of the workers: CPU, memory, requests/s, in flight, event loop; q quits')
    .option('--interval <ms>', 'refresh interval (default 1000)')
    .option('--control <path>', SOCKET_HELP)
    .option('--app <name>', APP_HELP)
    .action(async (_opts: unknown, cmd: Command) => (await actions()).top(cmd));
  // Parsed by systemd-command.ts (it takes a run's arguments); registered here for --help and `help systemd`.
  program
    .command('systemd')
    .description('print a systemd unit that runs this command (--name, --user); --install writes and enables it')
    .argument('[script]', 'and the options, as for a run: the unit runs exactly this command')
    .argument('[args...]')
    .option('--name <name>', "the unit's name (default: the app's, or package.json's name)")
    .option('--user <user>', 'User= of the service (default: you)')
    .option('--install', 'write the unit, systemctl daemon-reload and enable it (then start it yourself)')
    .option('--uninstall', 'systemctl disable --now the unit, remove its file, daemon-reload')
    .option('--user-unit', 'a user unit (~/.config/systemd/user, systemctl --user) instead of a system one')
    .option('--unit-dir <dir>', 'where --install writes the unit (default /etc/systemd/system, or the user one)')
    .allowUnknownOption();
  program
    .command('config')
    .description(CONTROL_API.config.summary)
    .argument('[script]', 'as for a run: the options are computed here, no master is asked')
    .argument('[args...]')
    .option('--control <path>', SOCKET_HELP)
    .option('--app <name>', APP_HELP)
    .option('--json', 'print them as JSON')
    .allowUnknownOption();
}
