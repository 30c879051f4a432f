import type { Command } from 'commander';

import { EXIT } from '../errors.js';

/**
 * The control commands as the CLI shows them (`supervise status|reload|stop|scale|logs|top|list`): names, options
 * and help. What each one does is in control-actions.ts, loaded when one runs.
 */
const actions = () => import('./control-actions.js');

export function addControlCommands(program: Command): void {
  const socketHelp = 'control socket of the master (default: the one started from this directory)';
  program
    .command('status')
    .description('show the workers of a running master')
    .option('--control <path>', socketHelp)
    .option('--json', 'print the status as JSON')
    .action(async (_opts: unknown, cmd: Command) => (await actions()).status(cmd));
  program
    .command('reload')
    .description('rolling restart; returns once every slot has a new ready worker, exits 1 if it rolled back')
    .option('--control <path>', socketHelp)
    .option('--wait-drained', 'also wait until every old worker has finished its drain and exited')
    .option('--timeout <duration>', `give up waiting after this long, exit ${EXIT.timeout} (the rollout goes on)`)
    .option('--json', 'print the rollout summary as JSON')
    .action(async (_opts: unknown, cmd: Command) => (await actions()).reload(cmd));
  program
    .command('stop')
    .description('graceful stop; waits until the master has exited')
    .option('--control <path>', socketHelp)
    .action(async (_opts: unknown, cmd: Command) => (await actions()).stop(cmd));
  program
    .command('scale')
    .description('set the number of workers: n, +n, -n or max')
    .argument('<n>', 'a count, +n / -n relative to the current one, or max (one per core)')
    .option('--control <path>', socketHelp)
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
    .action(async (_opts: unknown, cmd: Command) => (await actions()).top(cmd));
  program
    .command('logs')
    .description("print the last lines the master has seen (its log and the workers' output); -f follows")
    .option('-n, --lines <n>', 'how many lines (default 50; the master keeps the last 1000)')
    .option('-f, --follow', 'keep printing new lines until Ctrl+C or the master stops')
    .option('--control <path>', socketHelp)
    .option('--json', 'one JSON object per line')
    .action(async (_opts: unknown, cmd: Command) => (await actions()).logs(cmd));
}
