import type { Command } from 'commander';

import { EXIT } from '../errors.js';

/**
 * The control commands as the CLI shows them (`supervise status|reload|upgrade|stop|scale|logs|top|list`): names,
 * options and help. What each one does is in control-actions.ts, loaded when one runs.
 */
const actions = () => import('./control-actions.js');

export function addControlCommands(program: Command): void {
  const socketHelp = 'control socket of the master (default: the one started from this directory)';
  const appHelp = 'the master of this app, where several were started from one directory';
  program
    .command('status')
    .description('show the workers of a running master')
    .option('--control <path>', socketHelp)
    .option('--app <name>', appHelp)
    .option('--json', 'print the status as JSON')
    .action(async (_opts: unknown, cmd: Command) => (await actions()).status(cmd));
  program
    .command('reload')
    .description('rolling restart; returns once every slot has a new ready worker, exits 1 if it rolled back')
    .option('--control <path>', socketHelp)
    .option('--app <name>', appHelp)
    .option('--wait-drained', 'also wait until every old worker has finished its drain and exited')
    .option('--canary', `bake a canary first, whatever --canary says; exit ${EXIT.canary} when it does worse`)
    .option('--no-canary', 'no canary for this rollout')
    .option('--timeout <duration>', `give up waiting after this long, exit ${EXIT.timeout} (the rollout goes on)`)
    .option('--json', 'print the rollout summary as JSON')
    .action(async (_opts: unknown, cmd: Command) => (await actions()).reload(cmd));
  program
    .command('upgrade')
    .description(
      'replace the master itself (a new supervise or node) without closing the port; exits 1 if the new one failed',
    )
    .option('--node <path>', 'the node binary the new master runs on (default: node on PATH)')
    .option('--control <path>', socketHelp)
    .option('--json', 'print the outcome as JSON')
    .action(async (_opts: unknown, cmd: Command) => (await actions()).upgrade(cmd));
  program
    .command('stop')
    .description('graceful stop; waits until the master has exited')
    .option('--control <path>', socketHelp)
    .option('--app <name>', appHelp)
    .action(async (_opts: unknown, cmd: Command) => (await actions()).stop(cmd));
  program
    .command('scale')
    .description('set the number of workers: n, +n, -n or max')
    .argument('<n>', 'a count, +n / -n relative to the current one, or max (one per core)')
    .option('--control <path>', socketHelp)
    .option('--app <name>', appHelp)
    .action(async (spec: string, _opts: unknown, cmd: Command) => (await actions()).scale(spec, cmd));
  program
    .command('list')
    .description("this user's running masters: pid, directory, script, workers, uptime")
    .option('--json', 'print the list as JSON')
    .action(async (_opts: unknown, cmd: Command) => (await actions()).list(cmd));
  program
    .command('top')
    .description('a live view of the workers: CPU, memory, requests/s, in flight, event loop; q quits')
    .option('--interval <ms>', 'refresh interval (default 1000)')
    .option('--control <path>', socketHelp)
    .option('--app <name>', appHelp)
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
    .description(
      'the options in effect and where each came from (command line, config file, default, supervise scale); ' +
        'with a script or options, what a run with them would use, without starting it',
    )
    .argument('[script]', 'as for a run: the options are computed here, no master is asked')
    .argument('[args...]')
    .option('--control <path>', socketHelp)
    .option('--app <name>', appHelp)
    .option('--json', 'print them as JSON')
    .allowUnknownOption();
  program
    .command('logs')
    .description("print the last lines the master has seen (its log and the workers' output); -f follows")
    .option('-n, --lines <n>', 'how many lines (default 50; the master keeps the last 1000)')
    .option('-f, --follow', 'keep printing new lines until Ctrl+C or the master stops')
    .option('--reopen', 'reopen the --log-file at its path instead (after logrotate moved it), as SIGUSR1 does')
    .option('--control <path>', socketHelp)
    .option('--app <name>', appHelp)
    .option('--json', 'one JSON object per line')
    .action(async (_opts: unknown, cmd: Command) => (await actions()).logs(cmd));
}
