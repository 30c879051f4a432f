import { afterEach, describe, expect, it } from 'vitest';

import { get, load, pidsAnswering, until, untilAnswering } from '../../helpers/http.js';
import { example, fixture, freePort, killAll, supervise, waitGone } from '../../helpers/supervise.js';

afterEach(() => killAll());

describe('supervise app.js -w N', () => {
  it('runs 4 workers: 4 distinct pids answer', async () => {
    const port = await freePort();
    const s = supervise([example('http-basic/server.js'), '-w', '4'], { env: { PORT: String(port) } });
    await s.ready();
    const pids = await until(
      async () => {
        const seen = await pidsAnswering(port, 40);
        return seen.size === 4 ? seen : null;
      },
      10_000,
      '4 distinct pids',
    );
    expect([...pids].sort()).toEqual([...s.forkedPids()].sort());
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
    await waitGone([s.pid, ...s.forkedPids()]);
  });

  it('SIGHUP replaces every pid under a keep-alive load of 20 connections with no failed request', async () => {
    const port = await freePort();
    const s = supervise([example('http-sdk/server.js'), '-w', '4'], { env: { PORT: String(port) } });
    await s.ready();
    const before = new Set(s.forkedPids());
    const traffic = load(port, { connections: 20, maxMs: 30_000 });
    await until(() => traffic.result.ok > 200, 10_000, 'load to warm up');
    s.signal('SIGHUP');
    const end = await s.waitEvent('rollout.end', undefined, 30_000);
    expect(end.outcome).toBe('done');
    expect(end.replaced).toBe(4);
    const okAtEnd = traffic.result.ok;
    await until(() => traffic.result.ok > okAtEnd + 200, 10_000, 'load after the rollout');
    const result = await traffic.stop();
    expect(result.errors).toEqual([]);
    expect(result.failed).toBe(0);
    const after = await untilAnswering(port, 4);
    for (const pid of after) expect(before.has(pid)).toBe(false);
    expect(after.size).toBe(4);
    // Every old worker exited after a drain it reported, none was killed.
    const exits = s.events('worker.exit').filter((l) => before.has(l.pid as number));
    expect(exits).toHaveLength(4);
    for (const e of exits) expect(e.killed).toBe(false);
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
    await waitGone([s.pid, ...s.forkedPids()]);
  });

  it('a request in flight when SIGTERM arrives completes with its body; then the master exits 0', async () => {
    const port = await freePort();
    const s = supervise([example('http-basic/server.js'), '-w', '2', '--heartbeat', '50'], {
      env: { PORT: String(port) },
    });
    await s.ready();
    const slow = get(port, '/slow?ms=2500');
    // The request is in flight once a worker reports it.
    await s.waitInFlight(1);
    s.signal('SIGTERM');
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(/^slow 2500 \d+\n$/);
    expect(answer.headers.connection).toBe('close');
    const { code } = await s.waitExit();
    expect(code).toBe(0);
    await waitGone([s.pid, ...s.forkedPids()]);
    const stopped = s.events('master.stopped')[0];
    expect(stopped?.exitCode).toBe(0);
  });

  it('a worker that cannot drain is SIGKILLed after --kill-timeout and the master exits 1', async () => {
    const port = await freePort();
    const s = supervise([fixture('rollout/hang-on-request.js'), '-w', '1', '--kill-timeout', '1500'], {
      env: { PORT: String(port) },
    });
    await s.ready();
    void get(port, '/block', 5_000).catch(() => {});
    // The app says so just before its event loop blocks.
    await s.waitFor((l) => l.src === 'worker' && /^blocking \d+$/.test(String(l.msg)), 5_000);
    const t0 = Date.now();
    s.signal('SIGTERM');
    const { code } = await s.waitExit();
    const elapsed = Date.now() - t0;
    expect(code).toBe(1);
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    const exit = s.events('worker.exit')[0];
    expect(exit?.killed).toBe(true);
    expect(exit?.signal).toBe('SIGKILL');
    await waitGone([s.pid, ...s.forkedPids()]);
  });
});
