import { EXIT } from '../errors.js';
import type { Supervisor } from './supervisor.js';

/** Signals the master relays to its workers (the SDK's onSignal()); the others it owns. */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGUSR2'];

/**
 * The master's signals:
 *   SIGHUP          rolling restart (coalesced with any running one)
 *   SIGTERM/SIGINT  graceful stop; a second one during the stop kills every worker and exits 143/130
 *   SIGUSR2         forwarded to the workers
 */
export function installSignals(supervisor: Supervisor): void {
  process.on('SIGHUP', () => void supervisor.reload('SIGHUP'));

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
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  for (const signal of FORWARDED_SIGNALS) process.on(signal, () => supervisor.forwardSignal(signal));
}
