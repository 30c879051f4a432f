import { afterEach, describe, expect, it } from 'vitest';

import { get } from '../helpers/http.js';
import { example, freePort, killAll, supervise, waitGone } from '../helpers/supervise.js';

afterEach(() => killAll());

// Ctrl+C sends SIGINT to the whole foreground process group: the workers get it at the same instant as the
// master. A Node process with no SIGINT listener dies at once, with its requests in flight; the workers must
// leave the decision to the master, SDK or not.
describe('Ctrl+C (SIGINT to the whole process group)', () => {
  for (const [name, args] of [
    ['a plain app (auto drain)', [example('http-basic/server.js')]],
    ['a plain app with --no-auto-drain', [example('http-basic/server.js'), '--no-auto-drain']],
    ['an SDK app', [example('http-sdk/server.js')]],
  ] as const) {
    it(`${name}: the request in flight completes, then the master exits 0`, async () => {
      const port = await freePort();
      const s = supervise([...args, '-w', '2', '--kill-timeout', '8000'], {
        env: { PORT: String(port) },
        processGroup: true,
      });
      await s.ready();
      const slow = get(port, '/slow?ms=1500');
      await new Promise((r) => setTimeout(r, 300));
      s.signalGroup('SIGINT');
      const answer = await slow;
      expect(answer.status).toBe(200);
      expect(answer.body).toMatch(/^slow 1500 \d+\n$/);
      const { code } = await s.waitExit();
      expect(code).toBe(0);
      for (const e of s.events('worker.exit')) expect(e.killed).toBe(false);
      await waitGone([s.pid, ...s.forkedPids()]);
    });
  }
});
