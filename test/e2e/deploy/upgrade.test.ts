import { afterEach, describe, expect, it } from 'vitest';

import { load, until } from '../../helpers/http.js';
import { WsUser } from '../../helpers/long-lived.js';
import { example, killAll } from '../../helpers/supervise.js';
import { masterInDir, upgradeDone } from '../../helpers/master-in-dir.js';

afterEach(() => killAll());

/** A wait that gives up: a client that never comes back fails the test with what it waited for. */
async function bounded<T>(wait: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([wait, late]);
  } finally {
    clearTimeout(timer);
  }
}

interface Status {
  master: { pid: number; node: string; accept: string };
  workers: { pid: number }[];
}

/**
 * `supervise upgrade`: a new master takes over the listening socket while clients keep going. The masters'
 * logs share the test's pipes (the new master inherits the old one's stdout and stderr), so every forked worker
 * is in `s.lines`, and killAll() reaches them; each new master is tracked by its pid.
 */
async function upgradesUnderLoad(
  accept: string[],
  workers: number,
  times: number,
  { reload = true } = {},
): Promise<void> {
  const { port, s, ctl } = await masterInDir('supervise-upgrade-', [
    example('websocket-plain/server.js'),
    '-w',
    String(workers),
    ...accept,
  ]);
  await s.ready();
  const status = async (): Promise<Status> => {
    const run = await ctl(['status', '--json']);
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as Status;
  };

  // Few connections: each loop runs as fast as it can, and the 2 cores are shared with the new master's boot.
  const keepAlive = load(port, { connections: 4, maxMs: 60_000, maxRequests: 200_000 });
  const perConnection = load(port, { connections: 2, reset: true, maxMs: 60_000, maxRequests: 50_000 });
  const ws = new WsUser(port);
  await ws.connect();
  await until(() => keepAlive.result.ok > 100 && perConnection.result.ok > 50, 10_000, 'load to warm up');

  let before = await status();
  for (let i = 0; i < times; i++) {
    const oldPids = new Set(before.workers.map((w) => w.pid));
    // The old master and every one of its workers drain and exit.
    const { to } = await upgradeDone(ctl, before, { goneMs: 20_000 });
    // The WebSocket was closed as a restart closes it (1012), and its client is back, on a new worker.
    await bounded(ws.movedFrom(oldPids), 15_000, 'the WebSocket client back on a new worker');
    const closed = ws.visits.filter((v) => v.close && oldPids.has(v.pid));
    expect(closed.map((v) => v.close?.code)).toEqual([1012]);
    const after = await status();
    expect(after.master.pid).toBe(to);
    expect(after.workers).toHaveLength(workers);
    for (const w of after.workers) expect(oldPids.has(w.pid)).toBe(false);
    const [k, p] = [keepAlive.result.ok, perConnection.result.ok];
    await until(
      () => keepAlive.result.ok > k + 50 && perConnection.result.ok > p + 20,
      10_000,
      'load served by the new master',
    );
    before = after;
  }
  if (reload) {
    // The control socket is the new master's: a reload reaches it.
    const run = await ctl(['reload']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`rollout 2 done: ${workers} workers replaced`));
  }

  const [a, b] = await Promise.all([keepAlive.stop(), perConnection.stop()]);
  ws.end();
  console.info(
    `upgrade x${times} (${accept.join(' ') || 'shared'}, -w ${workers}): keep-alive ${a.ok} ok / ${a.failed} failed, one per connection ${b.ok} ok / ${b.failed} failed`,
  );
  expect(a.errors).toEqual([]);
  expect(b.errors).toEqual([]);
  expect(a.failed + b.failed).toBe(0);
  expect(ws.errors).toEqual([]);
  const stop = await ctl(['stop']);
  expect(stop.code, stop.stderr).toBe(0);
}

describe('supervise upgrade: the master is replaced without closing the port', () => {
  it('three upgrades under keep-alive and one-request-per-connection load: 0 failed, WebSocket 1012', async () => {
    await upgradesUnderLoad([], 4, 3);
  }, 90_000);

  // The other two ways in, once each with 2 workers: the suite's time goes to the three upgrades above.
  it('through round-robin (the primary accepts and hands on): the same, once', async () => {
    await upgradesUnderLoad(['--accept', 'round-robin'], 2, 1, { reload: false });
  }, 60_000);

  it('with --sticky (the master owns the public listener): the same, once', async () => {
    await upgradesUnderLoad(['--sticky'], 2, 1, { reload: false });
  }, 60_000);
});
