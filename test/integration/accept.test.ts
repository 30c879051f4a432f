/**
 * How connections reach the workers (issue 15): with each strategy, 3 SIGHUP rollouts of 4 workers lose no
 * request, under one request per connection and under keep-alive (undici, and autocannon's keep-alive load).
 */
import { afterEach, describe, expect, it } from 'vitest';

import { cannon, load, until } from '../helpers/http.js';
import { example, freePort, killAll, runCli, supervise, waitGone } from '../helpers/supervise.js';

afterEach(() => killAll());

describe('accept strategies', () => {
  for (const strategy of ['shared', 'round-robin'] as const) {
    it(`--accept ${strategy}: 3 rollouts of 4 workers, 0 failed with one request per connection and with keep-alive`, async () => {
      const port = await freePort();
      const s = supervise([example('http-basic/server.js'), '-w', '4', '--accept', strategy], { env: { PORT: String(port) } });
      const ready = await s.ready();
      expect(ready.accept).toBe(strategy);
      const sock = (await s.waitEvent('control.listening')).path as string;
      expect((await runCli(['status', '--control', sock])).stdout).toMatch(new RegExp(`connections: ${strategy}\\n`));

      const perConnection = load(port, { connections: 20, reset: true, maxMs: 40_000 });
      const keepAlive = load(port, { connections: 20, maxMs: 40_000 });
      const ac = cannon(port, { connections: 20 });
      await until(() => perConnection.result.ok > 200 && keepAlive.result.ok > 200 && ac.responses() > 200, 10_000, 'the loads to warm up');
      const old = s.forkedPids();
      for (let round = 1; round <= 3; round++) {
        const mark = s.lines.length;
        s.signal('SIGHUP');
        expect(await s.waitEvent('rollout.end', undefined, 20_000, mark)).toMatchObject({ outcome: 'done', replaced: 4 });
      }
      await waitGone(old, 15_000);
      const after = perConnection.result.ok;
      await until(() => perConnection.result.ok > after + 200, 10_000, 'load on the last workers');
      const [p, k, a] = await Promise.all([perConnection.stop(), keepAlive.stop(), ac.stop()]);
      expect(p.errors).toEqual([]);
      expect(p.failed).toBe(0);
      expect(k.errors).toEqual([]);
      expect(k.failed).toBe(0);
      expect({ errors: a.errors, timeouts: a.timeouts, non2xx: a.non2xx }).toEqual({ errors: 0, timeouts: 0, non2xx: 0 });
      // Every worker of the last generation answered one-per-connection requests.
      const last = s.events('worker.fork').filter((l) => l.generation === 4).map((l) => l.pid as number);
      for (const pid of last) expect(p.pids.has(pid)).toBe(true);
      s.signal('SIGTERM');
      expect((await s.waitExit()).code).toBe(0);
    });
  }
});
