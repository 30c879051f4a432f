import { afterEach, describe, expect, it } from 'vitest';

import { get, until } from '../../helpers/http.js';
import { establishedOn } from '../../helpers/proc.js';
import { example, freePort, killAll, supervise, waitGone } from '../../helpers/supervise.js';

afterEach(() => killAll());

// Ctrl+C sends SIGINT to the whole foreground process group: the workers get it at the same instant as the
// master. A Node process with no SIGINT listener dies at once, with its requests in flight; the workers must
// leave the decision to the master, SDK or not.
describe('Ctrl+C (SIGINT to the whole process group)', () => {
  for (const [name, args] of [
    ['a plain app (auto drain)', [example('http-basic/server.js')]],
    ['a plain app with --no-auto-drain', [example('http-basic/server.js'), '--no-auto-drain']],
    ['an SDK app', [example('http-sdk/server.js')]],
    ['a plain app with --sticky (the master accepts)', [example('http-basic/server.js'), '--sticky']],
  ] as const) {
    it(`${name}: the request in flight completes, then the master exits 0`, async () => {
      const port = await freePort();
      const s = supervise([...args, '-w', '2', '--kill-timeout', '8000', '--heartbeat', '50'], {
        env: { PORT: String(port) },
        processGroup: true,
      });
      await s.ready();
      const slow = get(port, '/slow?ms=1500');
      // In flight once a worker reports it; a worker without the engine (--no-auto-drain) reports nothing, so
      // there: once a worker holds the connection (its request follows on the same socket).
      if (!args.includes('--no-auto-drain' as never)) await s.waitInFlight(1);
      else await until(() => establishedOn(s.forkedPids(), port) >= 1, 5_000, 'a worker to hold the connection');
      s.signalGroup('SIGINT');
      const answer = await slow;
      expect(answer.status).toBe(200);
      expect(answer.body).toMatch(/^slow 1500 \d+\n$/);
      const { code } = await s.waitExit();
      expect(code).toBe(0);
      const exits = s.events('worker.exit');
      expect(exits).toHaveLength(2);
      for (const e of exits) expect(e.killed).toBe(false);
      await waitGone([s.pid, ...s.forkedPids()]);
    });
  }
});
