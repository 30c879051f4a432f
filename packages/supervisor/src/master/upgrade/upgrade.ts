import { type ChildProcess, spawn, type StdioOptions } from 'node:child_process';
import path from 'node:path';

import { closeListeners, LISTEN_FDS_ENV, liveListeners } from '../../accept/listeners.js';
import { logicalCwd } from '../../config/logical-cwd.js';
import { SuperviseError } from '../../errors.js';
import { plural } from '../../observe/text.js';
import { checkNode } from '../../worker/node-binary.js';
import { findOnPath } from '../systemd-notify.js';
import type { Supervisor } from '../supervisor.js';
import { isNewMasterMessage, type OldMasterMessage, UPGRADE_FROM_ENV } from './messages.js';

/**
 * `supervise upgrade` in the running master: start a new master (the `supervise` and `node` found now) with this
 * one's listening sockets as inherited descriptors, wait until its workers are ready on them, hand it the control
 * socket and the pid file, then drain this master's workers (WebSockets 1012, as a rollout) and exit. A new
 * master that fails exits; this one keeps serving as if nothing had happened and says why in one line.
 */

export type UpgradeResult =
  | { outcome: 'done'; from: number; to: number; node: string; draining: number }
  | { outcome: 'failed'; from: number; error: string };

export interface UpgradeHost {
  supervisor: Supervisor;
  /** Lets go of the control socket, the pid file and the health endpoint (the new master takes them). */
  release(): void;
}

/** How long the new master may take past --ready-timeout to say it is ready: its own start and config load. */
const START_MARGIN_MS = 30_000;
/** How long it may take to open its control socket once this master let go of it. */
const OPERATING_MS = 15_000;

let host: UpgradeHost | null = null;
let running: Promise<UpgradeResult> | null = null;
/** Set once the new master serves: systemd must not hear STOPPING from this one. */
let handedOver = false;

export function enableUpgrade(h: UpgradeHost): void {
  host = h;
}

export function upgradeHandedOver(): boolean {
  return handedOver;
}

/** Why this master cannot be upgraded now, or null. */
export function upgradeRefusal(supervisor: Supervisor): string | null {
  if (process.platform !== 'linux')
    return `upgrade is supported on Linux only (this is ${process.platform}): stop and start the master instead`;
  if (process.pid === 1)
    return "the master is PID 1 (a container's init): it cannot hand over to a new process; replace the container instead";
  if (supervisor.phase !== 'running') return `cannot upgrade while ${supervisor.phase}`;
  if (supervisor.rolloutRunning) return 'a rollout is running: upgrade once it is done';
  return null;
}

/**
 * The node binary the new master runs on: --node, else `node` on PATH now, else this one's; checked as the
 * workers' --node is (it runs, answers --version, is a Node supervise supports), or refused in one line.
 */
async function nodeBinary(given: string | undefined): Promise<string> {
  const bin = given ?? findOnPath('node') ?? process.execPath;
  try {
    await checkNode(bin);
  } catch (err) {
    throw new SuperviseError('ERR_USAGE', err instanceof Error ? err.message : String(err));
  }
  return bin;
}

/** Starts an upgrade (one at a time); resolves with how it ended, and rejects only when it is refused. */
export function upgrade(given?: string): Promise<UpgradeResult> {
  if (!host)
    return Promise.reject(new SuperviseError('ERR_CONTROL', 'upgrade needs a master started by the supervise CLI'));
  const refused = running ? 'an upgrade is already in progress' : upgradeRefusal(host.supervisor);
  if (refused) return Promise.reject(new SuperviseError('ERR_CONTROL', refused));
  const h = host;
  running = nodeBinary(given)
    .then((node) => handOver(h, node))
    .then(
      (result) => {
        if (result.outcome === 'failed') running = null;
        else setImmediate(() => void h.supervisor.stop('rollout'));
        return result;
      },
      (err: unknown) => {
        running = null;
        throw err;
      },
    );
  return running;
}

async function handOver(h: UpgradeHost, node: string): Promise<UpgradeResult> {
  const { supervisor } = h;
  const log = supervisor.log;
  const cli = process.argv[1] ?? '';
  const listeners = liveListeners();
  // fd 3 is the channel: a worker of the new master gets its own channel at fd 3, so it cannot inherit this one.
  const stdio: StdioOptions = ['ignore', 'inherit', 'inherit', 'ipc', ...listeners.map((l) => l.fd)];
  const named = listeners.map((l, i) => ({ fd: 4 + i, address: l.address, port: l.port }));
  log.info(
    { event: 'upgrade.start', node, cli, sockets: named },
    `upgrade: starting a new master (${node} ${path.basename(cli)}) with ${plural(named.length, 'listening socket')}`,
  );
  const failed = (error: string): UpgradeResult => {
    log.error({ event: 'upgrade.failed', error }, `upgrade failed: ${error}; master ${process.pid} keeps serving`);
    return { outcome: 'failed', from: process.pid, error };
  };
  let child: ChildProcess;
  try {
    child = spawn(node, [...process.execArgv, cli, ...process.argv.slice(2)], {
      cwd: logicalCwd(),
      env: { ...process.env, [LISTEN_FDS_ENV]: JSON.stringify(named), [UPGRADE_FROM_ENV]: String(process.pid) },
      stdio,
    });
  } catch (err) {
    return failed(`the new master could not be started: ${err instanceof Error ? err.message : String(err)}`);
  }
  // A send to a channel that just closed reports an error here, never as an uncaught one in this master.
  child.on('error', () => {});
  // This master told to stop meanwhile (SIGTERM): the service stops, so the new master must not take over.
  const onStopping = () => stopChild(child, supervisor.options.killTimeoutMs);
  supervisor.once('stopping', onStopping);
  const outcome = await untilReady(child, supervisor.options.readyTimeoutMs + START_MARGIN_MS);
  supervisor.off('stopping', onStopping);
  if (supervisor.phase !== 'running') {
    stopChild(child, supervisor.options.killTimeoutMs);
    return failed(`this master began to stop (${supervisor.phase}) during the upgrade`);
  }
  if ('error' in outcome) {
    stopChild(child, supervisor.options.killTimeoutMs);
    return failed(outcome.error);
  }
  // From here on the new master serves: this one stops accepting and lets go of what the new one takes over.
  closeListeners();
  h.release();
  handedOver = true;
  child.send({ upgrade: 'released' } satisfies OldMasterMessage);
  const operating = await untilMessage(child, 'operating', OPERATING_MS);
  if (!operating)
    log.warn(
      { event: 'upgrade.no-operating' },
      `upgrade: master ${child.pid} did not confirm its control socket within ${OPERATING_MS} ms`,
    );
  if (child.connected) child.disconnect();
  child.unref();
  const draining = supervisor.liveWorkers().length;
  log.info(
    { event: 'upgrade.done', from: process.pid, to: child.pid, node: outcome.node },
    `upgrade: master ${child.pid} (node ${outcome.node}) serves now; draining this master's ${plural(draining, 'worker')}`,
  );
  return { outcome: 'done', from: process.pid, to: child.pid!, node: outcome.node, draining };
}

/** The new master's 'ready', or why it will never come (its own one-line reason, its exit, the bound). */
function untilReady(child: ChildProcess, boundMs: number): Promise<{ node: string } | { error: string }> {
  return new Promise((resolve) => {
    let exited: string | null = null;
    const done = (value: { node: string } | { error: string }) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(value);
    };
    const timer = setTimeout(
      () => done({ error: `the new master was not ready within ${boundMs} ms` }),
      boundMs,
    ).unref();
    const onMessage = (m: unknown) => {
      if (!isNewMasterMessage(m)) return;
      if (m.upgrade === 'ready') done({ node: m.node });
      else if (m.upgrade === 'failed') done({ error: m.error });
    };
    child.on('message', onMessage);
    child.once('error', (err) => done({ error: `the new master could not be started: ${err.message}` }));
    child.once('exit', (code, signal) => {
      exited = `the new master exited with ${signal ?? `code ${code}`} before it was ready (its own lines above say why)`;
      // A message it sent just before exiting may still be on its way: the channel's end comes after it.
      if (!child.connected) done({ error: exited });
    });
    child.once('disconnect', () => {
      if (exited) done({ error: exited });
    });
  });
}

function untilMessage(child: ChildProcess, kind: 'operating', boundMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (value: boolean) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(value);
    };
    const timer = setTimeout(() => done(false), boundMs).unref();
    const onMessage = (m: unknown) => {
      if (isNewMasterMessage(m) && m.upgrade === kind) done(true);
    };
    child.on('message', onMessage);
    child.once('exit', () => done(false));
  });
}

/** A new master that failed: asked to stop (it drains what it started), then killed past the kill timeout. */
function stopChild(child: ChildProcess, killTimeoutMs: number): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), killTimeoutMs + 5_000).unref();
  child.once('exit', () => clearTimeout(timer));
}
