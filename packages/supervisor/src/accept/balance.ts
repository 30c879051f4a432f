import type { Logger } from '../observe/logger.js';
import type { SupervisorOptions } from '../config/options.js';
import type { WorkerProcess } from '../worker/worker-process.js';

/**
 * --accept shared: the kernel gives each new connection to whichever worker it wakes, and keep-alive connections
 * stay where they landed, so a burst (a client pool opening 50 connections at once) can pile up on one worker
 * (see bench/RESULTS.md#accept). Each worker reports its keep-alive connections when the
 * count changes (at most every 100 ms); every BALANCE_INTERVAL_MS the master compares them, and asks one holding
 * more than its share to move the surplus: those connections' next responses say `Connection: close`, and their
 * clients reconnect to whichever worker the kernel wakes then (see the worker's drain/balance.ts). Lossless as a
 * drain's last response is; no connection is cut.
 */

/**
 * How often the master compares the counts: soon after a burst (the first heartbeat, a second in, left a cold
 * run's first seconds unbalanced), and a worker told to move waits REST_ROUNDS for its clients to reconnect.
 */
export const BALANCE_INTERVAL_MS = 200;
const REST_ROUNDS = 2;

/**
 * Above (or below) the mean by this much, connections move: 20 %, not the 25 % a user would call balanced, as
 * requests follow connections and CPU scheduling adds its own unevenness.
 */
export const BALANCE_TOLERANCE = 0.2;

/**
 * How many connections each worker should move: its surplus over the mean, when it is above the tolerance. A
 * worker below the tolerance is filled the same way, from the worker holding the most: the connections it sheds
 * go to whichever worker the kernel wakes, and the least busy one is the likeliest.
 */
export function shedOrders(counts: readonly number[], tolerance = BALANCE_TOLERANCE): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  const mean = total / Math.max(1, counts.length);
  if (counts.length < 2) return counts.map(() => 0);
  // A few connections matter most (a proxy's small upstream pool: 4 connections on one worker of 4 is one worker
  // doing all the work), but a move must leave its worker no further below the mean than it was above: one
  // connection between two workers would otherwise bounce for ever.
  const surplus = (c: number) => (c - mean >= 1 ? Math.ceil(c - mean) : 0);
  const orders = counts.map((c) => (c > mean * (1 + tolerance) ? surplus(c) : 0));
  if (Math.min(...counts) < mean * (1 - tolerance) && !orders.some((n) => n > 0)) {
    const most = counts.indexOf(Math.max(...counts));
    orders[most] = surplus(counts[most]!);
  }
  return orders;
}

/**
 * WebSockets cannot move, and a shared socket gives a burst of them (clients reconnecting after a rollout) to
 * whichever worker the kernel wakes, far less evenly than round-robin deals them (bench:accept's WebSocket
 * bursts: bench/RESULTS.md#websocket-bursts). Uneven: a worker 50 % above or below the mean of at least 5.
 */
export function unevenUpgraded(counts: readonly number[]): boolean {
  const mean = counts.reduce((a, b) => a + b, 0) / Math.max(1, counts.length);
  return counts.length >= 2 && mean >= 5 && (Math.max(...counts) > mean * 1.5 || Math.min(...counts) < mean * 0.5);
}

/** Says so at most this often: an operator needs the hint, not a line per round. */
const UNEVEN_WARN_EVERY_MS = 10 * 60_000;

export interface BalanceHost {
  serving(): WorkerProcess[];
  log: Logger;
  running(): boolean;
}

/** The running balancer: how many connections it asked workers to move, for /metrics. */
export interface Balancer {
  readonly moved: number;
}

/** Starts the balancing loop, counting its moves in `counts`; returns its stop. A worker just told waits (its clients move). */
export function startBalancer(host: BalanceHost, intervalMs: number, counts: { moved: number }): () => void {
  const resting = new Map<WorkerProcess, number>();
  let warnedAt = -Infinity;
  const timer = setInterval(() => {
    if (!host.running()) return;
    const workers = host.serving().filter((w) => w.connections !== null);
    const upgraded = workers.map((w) => w.upgraded ?? 0);
    if (Date.now() - warnedAt > UNEVEN_WARN_EVERY_MS && unevenUpgraded(upgraded)) {
      warnedAt = Date.now();
      host.log.warn(
        { event: 'balance.uneven-upgraded', upgraded, pids: workers.map((w) => w.pid) },
        `WebSockets are unevenly spread over the workers (${upgraded.join(', ')}): with a shared socket the kernel gives each new connection to whichever worker it wakes, and upgraded connections never move; --accept round-robin deals new ones out in turn`,
      );
    }
    const orders = shedOrders(workers.map((w) => w.connections!));
    workers.forEach((w, i) => {
      const rest = resting.get(w) ?? 0;
      if (rest > 0) return void resting.set(w, rest - 1);
      const count = orders[i]!;
      if (count === 0) return;
      resting.set(w, REST_ROUNDS);
      host.log.debug(
        { event: 'balance.shed', pid: w.pid, slot: w.slot, count, connections: w.connections },
        `moving ${count} connections off worker ${w.pid}`,
      );
      w.shed(count);
      counts.moved += count;
    });
    for (const w of resting.keys()) if (w.state === 'exited') resting.delete(w);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** A master whose workers accept through a shared socket, alone (not --sticky). */
export function balancesSharedSocket(o: SupervisorOptions): boolean {
  return o.accept === 'shared' && o.sticky === null;
}

/** Runs the balancer when balancesSharedSocket(), until the master stops. */
export function balanceSharedSocket(master: {
  options: SupervisorOptions;
  log: Logger;
  readonly phase: string;
  liveWorkers(): WorkerProcess[];
  once(event: 'stopping', listener: () => void): unknown;
}): Balancer | null {
  const o = master.options;
  if (!balancesSharedSocket(o)) return null;
  const host = {
    serving: () => master.liveWorkers().filter((w) => w.state === 'ready'),
    log: master.log,
    running: () => master.phase === 'running',
  };
  const counts = { moved: 0 };
  master.once('stopping', startBalancer(host, BALANCE_INTERVAL_MS, counts));
  return counts;
}
