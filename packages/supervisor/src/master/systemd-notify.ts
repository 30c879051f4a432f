import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

import type { Supervisor } from './supervisor.js';

/**
 * sd_notify for Type=notify units. The protocol is a datagram on a Unix socket, which Node core cannot send,
 * so this runs `systemd-notify --pid=<master>` for each state change, one at a time so that they arrive in
 * order. Without NOTIFY_SOCKET, or without systemd-notify on PATH, it does nothing.
 */

export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

export type Notify = (fields: Record<string, string>) => Promise<void>;

export function systemdNotifier(env: NodeJS.ProcessEnv = process.env): Notify | null {
  if (!env.NOTIFY_SOCKET) return null;
  const bin = findOnPath('systemd-notify', env);
  if (!bin) return null;
  let queue = Promise.resolve();
  return (fields) => {
    const args = [`--pid=${process.pid}`, ...Object.entries(fields).map(([k, v]) => `${k}=${v}`)];
    queue = queue.then(
      () =>
        new Promise<void>((resolve) => {
          const child = spawn(bin, args, { stdio: 'ignore', env: { ...env } });
          child.once('error', () => resolve());
          child.once('exit', () => resolve());
        }),
    );
    return queue;
  };
}

/** The monotonic clock in µs, which systemd wants with RELOADING=1 (Type=notify-reload). */
function monotonicUsec(): string {
  return String(process.hrtime.bigint() / 1000n);
}

/**
 * READY after each rollout, RELOADING during one, STOPPING at the stop (not once `handedOver()`: an upgrade's
 * new master is the service then). The supervisor has no event for the end of start(), so the caller calls the
 * returned function once start() resolves.
 */
export function attachSystemd(supervisor: Supervisor, notify: Notify, handedOver: () => boolean): () => void {
  const status = () =>
    `${supervisor.readyCount}/${supervisor.options.workers} workers ready, generation ${supervisor.generation}`;
  const ready = () => void notify({ READY: '1', MAINPID: String(process.pid), STATUS: status() });
  supervisor.on(
    'rollout:start',
    ({ generation, trigger }) =>
      void notify({ RELOADING: '1', MONOTONIC_USEC: monotonicUsec(), STATUS: `rollout ${generation} (${trigger})` }),
  );
  supervisor.on('rollout:done', ready);
  supervisor.on(
    'rollout:rolled-back',
    (s) => void notify({ READY: '1', STATUS: `${status()}; rollout ${s.generation} rolled back` }),
  );
  supervisor.once('stopping', () => {
    if (!handedOver()) void notify({ STOPPING: '1', STATUS: 'stopping: draining workers' });
  });
  return ready;
}
