import { defaultControlPath } from '../control/paths.js';
import { type ControlServer, serveControl } from '../control/server.js';
import type { HealthServer } from '../observe/health.js';
import { logBuffer } from '../observe/log-buffer.js';
import { writePidFile } from '../control/pid-file.js';
import type { Supervisor } from './supervisor.js';
import { attachSystemd, systemdNotifier } from './systemd-notify.js';
import { upgradeHandedOver } from './upgrade/upgrade.js';

export interface Operations {
  /** The control socket's path, or null when there is none. */
  readonly controlPath: string | null;
  /** The health endpoint's port (the real one when --health-port 0 was given), or null. */
  readonly healthPort: number | null;
  /** Tells systemd that the start is over; call once start() resolved. */
  started(): void;
  /** Closes the socket and the health endpoint, removes the pid file. Also done at process exit. */
  close(): Promise<void>;
  /**
   * The same, at once, for an upgrade's new master to take them over: connections already open (the client
   * waiting for the upgrade's answer) are served to their end.
   */
  release(): void;
}

export interface OperationsOptions {
  /**
   * Serve a control socket at the default place (named after this directory and pid) when the options name
   * none. The CLI does; a library user may not want one.
   */
  defaultControl?: boolean;
}

/**
 * The operator's edges around a supervisor, from its options: pid file, control socket, health endpoint and
 * systemd notifications. Call before start(), so that a boot can be watched and probed (503 until ready).
 */
export async function startOperations(supervisor: Supervisor, opts: OperationsOptions = {}): Promise<Operations> {
  const o = supervisor.options;
  const cleanups: (() => void)[] = [];
  let control: ControlServer | null = null;
  let health: HealthServer | null = null;
  const onExit = () => {
    for (const c of cleanups.splice(0)) c();
  };
  process.once('exit', onExit);
  // What `supervise logs` shows of the workers (the master's own lines come from its logger).
  supervisor.on('worker:output', ({ slot, pid }, stream, msg) =>
    logBuffer.push({ time: Date.now(), src: 'worker', slot, pid, stream, msg }),
  );
  try {
    if (o.pidFile) cleanups.push(writePidFile(o.pidFile));
    const controlPath = o.control ?? (opts.defaultControl ? defaultControlPath() : null);
    if (controlPath) {
      control = await serveControl(supervisor, controlPath, { privateDir: o.control === null });
      cleanups.push(control.unlink);
      supervisor.log.info({ event: 'control.listening', path: control.path }, `control socket ${control.path}`);
    }
    if (o.healthPort !== null) {
      // The health endpoint (node:http) and prom-client are loaded only for a master that serves them.
      const [{ serveHealth }, { MasterMetrics }] = await Promise.all([
        import('../observe/health.js'),
        import('../observe/metrics.js'),
      ]);
      health = await serveHealth(supervisor, o.healthPort, o.healthHost, new MasterMetrics(supervisor));
      supervisor.log.info(
        { event: 'health.listening', host: o.healthHost, port: health.port },
        `health endpoint http://${o.healthHost.includes(':') ? `[${o.healthHost}]` : o.healthHost}:${health.port}/health`,
      );
    }
  } catch (err) {
    await control?.close();
    onExit();
    process.off('exit', onExit);
    throw err;
  }
  const notify = systemdNotifier();
  if (!notify && process.env.NOTIFY_SOCKET) {
    // Not fatal: a Type=simple unit sets NOTIFY_SOCKET too. A Type=notify one would time out the start.
    supervisor.log.warn(
      { event: 'systemd.unavailable' },
      'NOTIFY_SOCKET is set but systemd-notify is not on PATH: systemd is not told READY/RELOADING/STOPPING',
    );
  }
  const ready = notify ? attachSystemd(supervisor, notify, upgradeHandedOver) : () => {};
  return {
    controlPath: control?.path ?? null,
    healthPort: health?.port ?? null,
    started: ready,
    release: () => {
      void control?.close();
      void health?.close();
      onExit();
      process.off('exit', onExit);
    },
    close: async () => {
      await Promise.all([control?.close(), health?.close()]);
      onExit();
      process.off('exit', onExit);
    },
  };
}
