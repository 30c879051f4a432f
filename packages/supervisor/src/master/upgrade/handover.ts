import { closeUnclaimed } from '../../accept/listeners.js';
import { resolvedNow } from '../../config/logical-cwd.js';
import { describeCause } from '../../restart/crash-cause.js';
import type { WorkerProcess } from '../../worker/worker-process.js';
import type { Supervisor } from '../supervisor.js';
import { type NewMasterMessage, UPGRADE_FROM_ENV } from './messages.js';

/**
 * The new master's side of `supervise upgrade` (upgrade.ts is the old one's). It boots as any master does, but
 * on the sockets it inherited, and the first worker that fails before it is ready ends the upgrade: no restarts
 * with backoff while the old master waits, since the old master keeps serving and the user is told why at once.
 */
export interface Handover {
  /** The old master's pid. */
  readonly from: number;
  /** Every worker is ready: tell the old master, and wait (bounded) until it has let go of the control socket. */
  ready(): Promise<void>;
  /** The control socket and pid file are ours: the old master may drain; the channel closes. */
  operating(): void;
}

/** How long the old master may take to let go of its control socket and pid file. */
const RELEASE_MS = 15_000;

function send(message: NewMasterMessage, then?: () => void): void {
  if (!process.send || !process.connected) return void then?.();
  process.send(message, undefined, {}, () => then?.());
}

/** Null unless this master was started by an upgrade (the old master's pid in the environment, a channel to it). */
export function upgradeHandover(supervisor: Supervisor, env: NodeJS.ProcessEnv = process.env): Handover | null {
  const from = Number(env[UPGRADE_FROM_ENV]);
  delete env[UPGRADE_FROM_ENV];
  if (!Number.isInteger(from) || from <= 0 || !process.send) return null;
  watchBoot(supervisor);
  return {
    from,
    ready: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => finish(), RELEASE_MS).unref();
        const onMessage = (m: unknown) => {
          if ((m as { upgrade?: unknown } | null)?.upgrade === 'released') finish();
        };
        function finish() {
          clearTimeout(timer);
          process.off('message', onMessage);
          process.off('disconnect', finish);
          resolve();
        }
        process.on('message', onMessage);
        // The old master is gone (killed meanwhile): nothing holds the control socket any longer.
        process.once('disconnect', finish);
        send({ upgrade: 'ready', pid: process.pid, node: process.version });
      }),
    operating: () => {
      const left = closeUnclaimed();
      if (left.length > 0)
        supervisor.log.info(
          { event: 'upgrade.unclaimed', sockets: left },
          `upgrade: closed ${left.length} inherited socket(s) no worker listens on (${left.map((s) => `port ${s.port}`).join(', ')})`,
        );
      send({ upgrade: 'operating' }, () => {
        if (process.connected) process.disconnect();
      });
    },
  };
}

/** The first boot failure (or fatal error) ends the upgrade: the old master hears why, then this one stops. */
function watchBoot(supervisor: Supervisor): void {
  // Each booting worker's process, for its last lines (what the master's own crash report reads).
  const booting = new Map<number, WorkerProcess>();
  let failed = false;
  const fail = (error: string) => {
    if (failed || supervisor.phase !== 'starting') return;
    failed = true;
    supervisor.log.error({ event: 'upgrade.boot-failed', error }, `upgrade: ${error}`);
    send({ upgrade: 'failed', error }, () => void supervisor.stop());
  };
  supervisor.on('worker:forked', ({ pid }) => {
    const w = supervisor.liveWorkers().find((l) => l.pid === pid);
    if (w && supervisor.phase === 'starting') booting.set(pid, w);
  });
  supervisor.on('worker:exit', (info, exit) => {
    const cwd = resolvedNow(supervisor.options.cwd) ?? supervisor.options.cwd;
    const cause = describeCause(booting.get(info.pid)?.lastLines ?? [], cwd);
    booting.delete(info.pid);
    const how = exit.intended
      ? `was not ready within --ready-timeout (${supervisor.options.readyTimeoutMs} ms)`
      : `exited with ${exit.signal ?? `code ${exit.code}`} before it was ready`;
    fail(`a new worker (pid ${info.pid}) ${how}${cause ? `: ${cause}` : ''}`);
  });
  supervisor.on('fatal', (err) => fail(err.message));
  supervisor.once('stopping', () => booting.clear());
}
