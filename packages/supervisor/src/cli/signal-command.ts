import type { Command } from 'commander';

import { parseSignalName, SIGNAL_NAME_USAGE } from '../control/args.js';
import { SuperviseError } from '../errors.js';
import { plural } from '../observe/text.js';

const client = () => import('./control-actions.js');

/**
 * `supervise signal <name>`: PM2's `sendSignal`. The master relays the signal to its workers over IPC, where the
 * SDK's onSignal() handlers hear it; a signal sent to the master itself is the master's (USR1 reopens the log
 * file, USR2 upgrades it), as with nginx and gunicorn.
 */
async function signal(name: string, cmd: Command): Promise<void> {
  const { optsOf, request } = await client();
  const opts = optsOf(cmd);
  const parsed = parseSignalName(name);
  if (!parsed) throw new SuperviseError('ERR_USAGE', `signal: expected ${SIGNAL_NAME_USAGE}, got "${name}"`);
  const [reply] = await request(opts, { cmd: 'signal', name: parsed });
  process.stdout.write(
    opts.json
      ? `${JSON.stringify(reply)}\n`
      : `relayed ${reply.signal} to ${plural(reply.workers, 'worker')} (the SDK's onSignal())\n`,
  );
}

export function addSignalCommand(program: Command): void {
  program
    .command('signal')
    .description("relay a signal to every worker, for the SDK's onSignal() (as pm2 sendSignal); no process is killed")
    .argument('<name>', 'the signal, such as USR2 or SIGUSR2')
    .option('--control <path>', 'control socket of the master (default: the one started from this directory)')
    .option('--app <name>', 'the master of this app, where several were started from one directory')
    .option('--json', 'print the answer as JSON')
    .action(async (name: string, _opts: unknown, cmd: Command) =>
      (await client()).withJsonErrors((c) => signal(name, c))(cmd),
    );
}
