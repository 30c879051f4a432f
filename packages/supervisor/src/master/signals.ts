import { EXIT } from '../errors.js';
import type { Supervisor } from './supervisor.js';

/** An upgrade asked for by signal: its outcome is in the log (upgrade.done / upgrade.failed); a refusal too. */
function upgradeOnSignal(supervisor: Supervisor, signal: NodeJS.Signals): void {
  supervisor.log.info({ event: 'signal', signal }, `${signal} received: upgrade`);
  // Loaded here: `supervise --help` reads this table and needs none of it.
  void import('./upgrade.js')
    .then(({ upgrade }) => upgrade())
    .catch((err: unknown) =>
      supervisor.log.warn(
        { event: 'upgrade.refused', error: String(err) },
        `upgrade refused: ${err instanceof Error ? err.message : String(err)}`,
      ),
    );
}

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
  // USR2, nginx's and gunicorn's upgrade signal, is the workers' here; USR1 is node's inspector signal, which a
  // master gives up for this (start it with --inspect to debug it).
  {
    signal: 'SIGUSR1',
    action: 'upgrade',
    help: 'upgrade: a new master (the supervise and node found now) takes over the listening sockets',
  },
] as const satisfies readonly {
  signal: NodeJS.Signals;
  action: 'reload' | 'stop' | 'forward' | 'upgrade';
  help: string;
}[];

/** Signals the master relays to its workers (the SDK's onSignal()); the others it owns. */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = MASTER_SIGNALS.filter((s) => s.action === 'forward').map(
  (s) => s.signal,
);

/**
 * reload: a rolling restart, coalesced with any running one. stop: a graceful stop; a second stop signal during the
 * stop kills every worker and exits with the shell's code for that signal (EXIT.sigint, EXIT.sigterm). forward:
 * relayed to the workers.
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
    else if (action === 'upgrade') process.on(signal, () => upgradeOnSignal(supervisor, signal));
    else process.on(signal, () => supervisor.forwardSignal(signal));
  }
}
