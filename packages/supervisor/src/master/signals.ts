import { EXIT } from '../errors.js';
import { reopenLogFiles } from '../observe/log-route.js';
import type { Supervisor } from './supervisor.js';

/** An upgrade asked for by signal: its outcome is in the log (upgrade.done / upgrade.failed); a refusal too. */
function upgradeOnSignal(supervisor: Supervisor, signal: NodeJS.Signals): void {
  supervisor.log.info({ event: 'signal', signal }, `${signal} received: upgrade`);
  // Loaded here: `supervise --help` reads this table and needs none of it.
  void import('./upgrade/upgrade.js')
    .then(({ upgrade }) => upgrade())
    .catch((err: unknown) =>
      supervisor.log.warn(
        { event: 'upgrade.refused', error: String(err) },
        `upgrade refused: ${err instanceof Error ? err.message : String(err)}`,
      ),
    );
}

/**
 * The master's signals, once: installSignals wires them from this table, and --help lists them from it. USR1 and
 * USR2 mean what they mean to nginx, gunicorn and unicorn (reopen the logs, upgrade the master); a signal for the
 * workers' onSignal() goes through `supervise signal` instead.
 */
export const MASTER_SIGNALS = [
  { signal: 'SIGHUP', action: 'reload', help: 'rolling restart (re-reads the config file first)' },
  {
    signal: 'SIGTERM',
    action: 'stop',
    help: 'graceful stop: every worker drains, then the master exits; a second one kills at once',
  },
  {
    signal: 'SIGINT',
    action: 'stop',
    help: 'graceful stop: every worker drains, then the master exits; a second one kills at once',
  },
  // A listener on USR1 replaces Node's own use of it (opening the inspector) in the master only, on Node 20 and 24.
  { signal: 'SIGUSR1', action: 'reopen', help: 'reopen the --log-file (after logrotate moved it)' },
  {
    signal: 'SIGUSR2',
    action: 'upgrade',
    help: 'upgrade: a new master (the supervise and node found now) takes over the listening sockets',
  },
] as const satisfies readonly {
  signal: NodeJS.Signals;
  action: 'reload' | 'stop' | 'reopen' | 'upgrade';
  help: string;
}[];

/**
 * reload: a rolling restart, coalesced with any running one. stop: a graceful stop; a second stop signal during the
 * stop kills every worker and exits with the shell's code for that signal (EXIT.sigint, EXIT.sigterm). reopen: the
 * log file is opened again at its path. upgrade: a new master takes over (master/upgrade/).
 */
export function installSignals(supervisor: Supervisor): void {
  let stopping = false;
  const stop = (signal: 'SIGINT' | 'SIGTERM') => {
    if (stopping) {
      const code = signal === 'SIGINT' ? EXIT.sigint : EXIT.sigterm;
      supervisor.forceStop(code);
      process.exit(code);
    }
    stopping = true;
    supervisor.log.info({ event: 'signal', signal }, `${signal} received: graceful stop (send it again to force)`);
    void supervisor.stop();
  };
  for (const { signal, action } of MASTER_SIGNALS) {
    if (action === 'reload') process.on(signal, () => void supervisor.reload(signal));
    else if (action === 'stop') process.on(signal, () => stop(signal));
    else if (action === 'reopen') process.on(signal, () => reopen(supervisor, signal));
    else process.on(signal, () => upgradeOnSignal(supervisor, signal));
  }
}

function reopen(supervisor: Supervisor, signal: NodeJS.Signals): void {
  const paths = reopenLogFiles();
  supervisor.log.info(
    { event: 'log.reopened', signal, paths },
    paths.length ? `${signal}: reopened ${paths.join(', ')}` : `${signal}: no --log-file to reopen`,
  );
}
