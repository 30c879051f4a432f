import { EXIT } from '../errors.js';
import { reopenLogFiles } from '../observe/log-route.js';
import type { Supervisor } from './supervisor.js';

/**
 * The master's signals, once: installSignals wires them from this table, and --help lists them from it. The
 * master owns every signal here but the forwarded ones, which it relays to the workers (the SDK's onSignal()).
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
  { signal: 'SIGUSR2', action: 'forward', help: "forwarded to the workers (the SDK's onSignal())" },
  // nginx's signal for the same, which logrotate configs send; a listener on it replaces Node's own use of
  // SIGUSR1 (opening the inspector) in the master only, on Node 20 and 24 alike.
  { signal: 'SIGUSR1', action: 'reopen', help: 'reopen the --log-file (after logrotate moved it)' },
] as const satisfies readonly {
  signal: NodeJS.Signals;
  action: 'reload' | 'stop' | 'forward' | 'reopen';
  help: string;
}[];

/** Signals the master relays to its workers (the SDK's onSignal()); the others it owns. */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = MASTER_SIGNALS.filter((s) => s.action === 'forward').map(
  (s) => s.signal,
);

/**
 * reload: a rolling restart, coalesced with any running one. stop: a graceful stop; a second stop signal during the
 * stop kills every worker and exits with the shell's code for that signal (EXIT.sigint, EXIT.sigterm). forward:
 * relayed to the workers. reopen: the log file is opened again at its path.
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
    else process.on(signal, () => supervisor.forwardSignal(signal));
  }
}

function reopen(supervisor: Supervisor, signal: NodeJS.Signals): void {
  const paths = reopenLogFiles();
  supervisor.log.info(
    { event: 'log.reopened', signal, paths },
    paths.length ? `${signal}: reopened ${paths.join(', ')}` : `${signal}: no --log-file to reopen`,
  );
}
