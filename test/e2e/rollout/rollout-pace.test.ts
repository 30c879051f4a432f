/**
 * Rollouts that never queue behind a slow drain (issue 14): the next replacement starts as soon as the
 * previous one is ready and the old worker has begun to drain, whatever its requests' length; the draining
 * workers are bounded apart (--max-draining). The bounds are read from the order of the log's events.
 */
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { type Answer, cannon, get, load, pidsAnswering, until } from '../../helpers/http.js';
import {
  example,
  fixture,
  freePort,
  isAlive,
  killAll,
  runCli,
  supervise,
  tempDir,
  waitGone,
} from '../../helpers/supervise.js';

afterEach(() => killAll());

const LONG_MS = 8_000;

describe('rollout pace', () => {
  it('-w 4 under a steady stream of 8 s requests: only new workers answer before one long request could end, every long request gets 200, each old worker exits when its last one ends', async () => {
    const port = await freePort();
    const s = supervise([example('http-basic/server.js'), '-w', '4', '--kill-timeout', '20000'], {
      env: { PORT: String(port) },
    });
    await s.ready();
    const old = new Set(s.servingPids());

    const undici = load(port, { connections: 20, maxMs: 40_000 });
    const ac = cannon(port, { connections: 20 });
    // A new 8 s request every 250 ms, each on its own connection: every old worker holds some when it drains.
    const long: Promise<Answer>[] = [];
    let streaming = true;
    const stream = (async () => {
      while (streaming && long.length < 80) {
        // A failure is an answer too (status 0): the assertions below count it, nothing is left unhandled.
        long.push(
          get(port, `/slow?ms=${LONG_MS}`, 30_000).catch((err: Error) => ({
            status: 0,
            body: err.message,
            headers: {},
          })),
        );
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    await until(
      () => undici.result.ok > 200 && ac.responses() > 200 && long.length >= 8,
      10_000,
      'the loads to warm up',
    );

    const hup = s.lines.length;
    const t0 = Date.now();
    s.signal('SIGHUP');
    try {
      // Waiting for the old workers' exits would take 4 x 8 s; how long 4 boots take depends on the machine,
      // so the claim is read from the state, not the clock: when the rollout ends, old workers still drain
      // (their long requests), and only new workers answer while an old one still holds its requests.
      const end = await s.waitEvent('rollout.end', undefined, 30_000, hup);
      expect(end).toMatchObject({ outcome: 'done', replaced: 4 });
      expect(end.draining as number).toBeGreaterThan(0);
      const fresh = await pidsAnswering(port, 20);
      const onlyNewAfter = Date.now() - t0;
      for (const pid of fresh) expect(old.has(pid)).toBe(false);
      expect([...old].some(isAlive)).toBe(true);
      // Enough long requests reached the old workers: stop adding new ones, so that the last of them (on the
      // new workers) end while the old workers drain, not 8 s after.
      streaming = false;

      // The last old worker began to drain at the rollout's end; its last request ends at most 8 s later.
      await s.waitEvent('rollout.drained', undefined, LONG_MS + 4_000, hup);
      await waitGone([...old], 1_000);
      expect(Date.now() - t0).toBeLessThan(onlyNewAfter + LONG_MS + 2_000);
    } finally {
      streaming = false;
      await stream;
    }
    const answers = await Promise.all(long);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    const [u, a] = await Promise.all([undici.stop(), ac.stop()]);
    expect(u.errors).toEqual([]);
    expect(u.failed).toBe(0);
    expect({ errors: a.errors, timeouts: a.timeouts, non2xx: a.non2xx }).toEqual({ errors: 0, timeouts: 0, non2xx: 0 });
    // From the order of fork, state and exit events: N + surge serving at most, N draining at most.
    const bounds = s.workerBounds();
    expect(bounds.serving).toBeLessThanOrEqual(5);
    expect(bounds.draining).toBeLessThanOrEqual(4);
    expect(bounds.draining).toBeGreaterThan(1); // the drains overlapped
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
  });

  it('--max-draining 1: the next replacement waits until the old worker has exited; supervise reload says who is still draining, --wait-drained waits for them', async () => {
    const port = await freePort();
    const sock = path.join(tempDir('supervise-pace-'), 'ctl.sock');
    // round-robin: the four slow requests below must reach both workers, which a shared socket leaves to chance.
    const s = supervise(
      [fixture('faults/fault-app.js'), '-w', '2', '--max-draining', '1', '--control', sock, '--accept', 'round-robin'],
      {
        env: { PORT: String(port) },
      },
    );
    await s.ready();
    const ctl = runCli;
    const slowStarted = (after: number, n: number) =>
      until(
        () => s.lines.slice(after).filter((l) => l.src === 'worker' && /slow request/.test(String(l.msg))).length >= n,
        5_000,
        `${n} slow requests to start`,
      );
    // Both workers hold 1.5 s requests (round-robin spreads the four).
    let mark = s.lines.length;
    const slow = Array.from({ length: 4 }, () => get(port, '/slow?ms=1500'));
    await slowStarted(mark, 4);
    const reload = await ctl(['reload', '--control', sock]);
    expect(reload.code).toBe(0);
    // After a progress line per replaced worker (and per old one gone), the summary.
    expect(reload.stdout).toMatch(
      /^rollout 2 done: 2 workers replaced in \d+ ms; 1 old worker is still draining \(--wait-drained waits for them\)$/m,
    );
    // With a bound of 1, slot 1 was replaced only after slot 0's old worker had exited.
    const exits = s.events('worker.exit');
    const forks = s.events('worker.fork').filter((l) => l.generation === 2);
    expect(s.lines.indexOf(forks[1]!)).toBeGreaterThan(s.lines.indexOf(exits[0]!));
    expect(s.workerBounds().draining).toBe(1);

    for (const a of await Promise.all(slow)) expect(a.status).toBe(200);
    mark = s.lines.length;
    const again = Array.from({ length: 4 }, () => get(port, '/slow?ms=1500'));
    await slowStarted(mark, 4);
    const waited = await ctl(['reload', '--wait-drained', '--json', '--control', sock]);
    expect(waited.code).toBe(0);
    const summary = JSON.parse(waited.stdout) as {
      outcome: string;
      draining: number;
      drainedMs?: number;
      durationMs: number;
    };
    expect(summary).toMatchObject({ outcome: 'done', draining: 1 });
    expect(summary.drainedMs).toBeGreaterThan(summary.durationMs);
    // When --wait-drained returned, every old worker had exited: only the newest two are alive.
    const gen3 = s
      .events('worker.fork')
      .filter((l) => l.generation === 3)
      .map((l) => l.pid as number);
    expect(s.servingPids().sort()).toEqual(gen3.sort());
    expect(s.events('worker.exit')).toHaveLength(4);
    for (const a of await Promise.all(again)) expect(a.status).toBe(200);

    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
  });
});
