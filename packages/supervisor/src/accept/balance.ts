import type { Logger } from '../logger.js';
import type { SupervisorOptions } from '../options.js';
import type { WorkerProcess } from '../worker.js';

/**
 * --accept shared: the kernel gives each new connection to whichever worker it wakes, and keep-alive connections
 * stay where they landed, so a burst (a client pool opening 50 connections at once) can pile up on one worker
 * (measured: 0.09x to 2.99x the mean over 4 workers). At every heartbeat the master compares the workers'
 * keep-alive connections, and asks one holding more than its share to move the surplus: those connections'
 * next responses say `Connection: close`, and their clients reconnect to whichever worker the kernel wakes
 * then (see the worker's drain/balance.ts). Lossless as a drain's last response is; no connection is cut.
 */

/** Above the mean by this much, a worker sheds its surplus. */
export const BALANCE_TOLERANCE = 0.25;

/** How many connections each worker should move: its surplus over the mean, when it is above the tolerance. */
export function shedOrders(counts: readonly number[], tolerance = BALANCE_TOLERANCE): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  const mean = total / Math.max(1, counts.length);
  // A handful of connections is not worth moving: only balance what the mean makes meaningful.
  if (counts.length < 2 || mean < 2) return counts.map(() => 0);
  return counts.map((c) => (c > mean * (1 + tolerance) && c - mean >= 2 ? Math.ceil(c - mean) : 0));
}

export interface BalanceHost {
  serving(): WorkerProcess[];
  log: Logger;
  running(): boolean;
}

/** Starts the balancing loop; returns its stop. A worker that was just told waits a round (its clients move). */
export function startBalancer(host: BalanceHost, intervalMs: number): () => void {
  const resting = new Map<WorkerProcess, number>();
  const timer = setInterval(() => {
    if (!host.running()) return;
    const workers = host.serving().filter((w) => w.connections !== null);
    const orders = shedOrders(workers.map((w) => w.connections!));
    workers.forEach((w, i) => {
      const rest = resting.get(w) ?? 0;
      if (rest > 0) return void resting.set(w, rest - 1);
      const count = orders[i]!;
      if (count === 0) return;
      resting.set(w, 1);
      host.log.debug({ event: 'balance.shed', pid: w.pid, slot: w.slot, count, connections: w.connections }, `moving ${count} connections off worker ${w.pid}`);
      w.shed(count);
    });
    for (const w of resting.keys()) if (w.state === 'exited') resting.delete(w);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** A master that accepts through a shared socket, alone (not --sticky), with heartbeats to count with. */
export function balancesSharedSocket(o: SupervisorOptions): boolean {
  return o.accept === 'shared' && o.sticky === null && o.heartbeatMs > 0;
}

/** Runs the balancer when balancesSharedSocket(). */
export function balanceSharedSocket(master: {
  options: SupervisorOptions;
  log: Logger;
  readonly phase: string;
  liveWorkers(): WorkerProcess[];
  once(event: 'stopping', listener: () => void): unknown;
}): void {
  const o = master.options;
  if (!balancesSharedSocket(o)) return;
  const host = { serving: () => master.liveWorkers().filter((w) => w.state === 'ready'), log: master.log, running: () => master.phase === 'running' };
  // Once per heartbeat: the counts are a beat old at most, and a worker told to move waits a round.
  master.once('stopping', startBalancer(host, Math.max(500, o.heartbeatMs)));
}
