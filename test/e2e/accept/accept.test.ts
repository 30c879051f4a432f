/**
 * How connections reach the workers (issue 15): with each strategy, 2 SIGHUP rollouts of 4 workers lose no
 * request, under one request per connection and under keep-alive (undici, and autocannon's keep-alive load).
 * With a shared socket, keep-alive connections that piled up on one worker move to the others.
 */
import { Client } from 'undici';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';

import { cannon, load, until } from '../../helpers/http.js';
import { example, freePort, killAll, runCli, supervise, waitGone } from '../../helpers/supervise.js';

afterEach(() => killAll());

/** SIGHUPs per strategy: the second rolls workers that were themselves started by a rollout. */
const ROUNDS = 2;

describe('accept strategies', () => {
  for (const strategy of ['shared', 'round-robin'] as const) {
    it(`--accept ${strategy}: ${ROUNDS} rollouts of 4 workers, 0 failed with one request per connection and with keep-alive`, async () => {
      const port = await freePort();
      const s = supervise([example('http-basic/server.js'), '-w', '4', '--accept', strategy], {
        env: { PORT: String(port) },
      });
      const ready = await s.ready();
      expect(ready.accept).toBe(strategy);
      const sock = (await s.waitEvent('control.listening')).path as string;
      expect((await runCli(['status', '--control', sock])).stdout).toMatch(new RegExp(`connections: ${strategy}\\n`));

      const perConnection = load(port, { connections: 20, reset: true, maxMs: 40_000 });
      const keepAlive = load(port, { connections: 20, maxMs: 40_000 });
      const ac = cannon(port, { connections: 20 });
      await until(
        () => perConnection.result.ok > 200 && keepAlive.result.ok > 200 && ac.responses() > 200,
        10_000,
        'the loads to warm up',
      );
      const old = s.forkedPids();
      for (let round = 1; round <= ROUNDS; round++) {
        const mark = s.lines.length;
        s.signal('SIGHUP');
        expect(await s.waitEvent('rollout.end', undefined, 20_000, mark)).toMatchObject({
          outcome: 'done',
          replaced: 4,
        });
      }
      await waitGone(old, 15_000);
      const after = perConnection.result.ok;
      await until(() => perConnection.result.ok > after + 200, 10_000, 'load on the last workers');
      const [p, k, a] = await Promise.all([perConnection.stop(), keepAlive.stop(), ac.stop()]);
      expect(p.errors).toEqual([]);
      expect(p.failed).toBe(0);
      expect(k.errors).toEqual([]);
      expect(k.failed).toBe(0);
      expect({ errors: a.errors, timeouts: a.timeouts, non2xx: a.non2xx }).toEqual({
        errors: 0,
        timeouts: 0,
        non2xx: 0,
      });
      // Every worker of the last generation answered one-per-connection requests.
      const last = s
        .events('worker.fork')
        .filter((l) => l.generation === 1 + ROUNDS)
        .map((l) => l.pid as number);
      for (const pid of last) expect(p.pids.has(pid)).toBe(true);
      s.signal('SIGTERM');
      expect((await s.waitExit()).code).toBe(0);
    });
  }

  // Without the balancer every client would stay on the first worker: keep-alive connections never move.
  const spreads = [
    { clients: 40, band: [8, 12], what: 'within 25 % of 10 per worker' },
    // A proxy's small upstream pool (nginx `keepalive 4`): one connection per worker, or one worker does it all.
    { clients: 4, band: [1, 1], what: 'one per worker, as a proxy with 4 upstream connections would need' },
  ] as const;
  for (const { clients: n, band, what } of spreads) {
    it(`--accept shared: ${n} keep-alive clients on one worker spread over 4 after a scale up, ${what}, 0 failed`, async () => {
      const [port, health] = [await freePort(), await freePort()];
      const s = supervise(
        [example('http-basic/server.js'), '-w', '1', '--accept', 'shared', '--health-port', String(health)],
        { env: { PORT: String(port) } },
      );
      await s.ready();
      const sock = (await s.waitEvent('control.listening')).path as string;
      // One connection per client, each remembering which worker answered it last.
      const clients = Array.from(
        { length: n },
        () => new Client(`http://127.0.0.1:${port}`, { pipelining: 1, keepAliveTimeout: 30_000 }),
      );
      const last = new Array<number>(clients.length).fill(0);
      const errors: string[] = [];
      let stopped = false;
      const loops = clients.map(async (client, i) => {
        for (let k = 0; k < 100_000 && !stopped; k++) {
          try {
            const res = await client.request({ path: '/', method: 'GET', headersTimeout: 10_000, bodyTimeout: 10_000 });
            const body = await res.body.text();
            if (res.statusCode === 200) last[i] = Number(body.trim());
            else errors.push(`status ${res.statusCode}`);
          } catch (err) {
            errors.push(String((err as Error)?.message ?? err));
          }
        }
      });
      const hardStop = setTimeout(() => (stopped = true), 40_000);
      try {
        await until(() => last.every((pid) => pid !== 0), 10_000, 'every client answered');
        expect(new Set(last).size).toBe(1);
        const up = await runCli(['scale', '4', '--control', sock]);
        expect(up.stdout).toBe('scaled from 1 to 4 workers\n');
        const perWorker = () => {
          const counts = new Map<number, number>();
          for (const pid of last) counts.set(pid, (counts.get(pid) ?? 0) + 1);
          return [...counts.values()];
        };
        await until(
          () => {
            const counts = perWorker();
            return counts.length === 4 && counts.every((c) => c >= band[0] && c <= band[1]);
          },
          15_000,
          `the clients spread ${what}`,
        );
      } finally {
        stopped = true;
        clearTimeout(hardStop);
        await Promise.all(loops);
        await Promise.all(clients.map((c) => c.close()));
      }
      expect(errors).toEqual([]);
      // Three quarters had to leave the first worker; some reconnect to it again and are asked once more.
      const metrics = await (await fetch(`http://127.0.0.1:${health}/metrics`)).text();
      const moved = Number(/^supervise_balance_moved_connections_total (\d+)$/m.exec(metrics)?.[1]);
      expect(moved).toBeGreaterThanOrEqual((n * 3) / 4);
      s.signal('SIGTERM');
      expect((await s.waitExit()).code).toBe(0);
    });
  }

  it('--accept shared: WebSockets piled on one worker are named in a warning that points to round-robin', async () => {
    const port = await freePort();
    const s = supervise([example('websocket-plain/server.js'), '-w', '1', '--accept', 'shared'], {
      env: { PORT: String(port) },
    });
    await s.ready();
    const sock = (await s.waitEvent('control.listening')).path as string;
    const first = s.forkedPids()[0]!;
    const sockets = await Promise.all(
      Array.from(
        { length: 20 },
        () =>
          new Promise<WebSocket>((resolve, reject) => {
            const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
            ws.once('message', () => resolve(ws));
            ws.once('error', reject);
          }),
      ),
    );
    try {
      const up = await runCli(['scale', '4', '--control', sock]);
      expect(up.stdout).toBe('scaled from 1 to 4 workers\n');
      // The 20 stay where they are (nothing can move a WebSocket); the master says so, once.
      const warning = await s.waitEvent('balance.uneven-upgraded', undefined, 10_000);
      expect(warning.level).toBe(40); // pino's warn
      expect(String(warning.msg)).toMatch(
        /^WebSockets are unevenly spread over the workers \(.*\): .*--accept round-robin deals new ones out in turn$/,
      );
      // It may come as soon as the first new worker serves: 20 on the first worker, none on the new ones.
      const counts = warning.upgraded as number[];
      expect(counts.length).toBeGreaterThanOrEqual(2);
      expect(counts[(warning.pids as number[]).indexOf(first)]).toBe(20);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(20);
      expect(sockets.every((ws) => ws.readyState === WebSocket.OPEN)).toBe(true);
    } finally {
      for (const ws of sockets) ws.terminate();
    }
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
    expect(s.events('balance.uneven-upgraded')).toHaveLength(1);
  });
});
