/**
 * HTTP/2 drained with no refused stream (issue 26, case 3), on an unmodified h2c app. The drain's first GOAWAY
 * is a shutdown notice (last stream id 2^31-1), and only a PING round trip later comes the real one: a stream
 * the client sent before it saw the notice is processed and answered. With a single GOAWAY (node's
 * session.close()) such a stream is refused.
 */
import http2 from 'node:http2';

import { afterEach, describe, expect, it } from 'vitest';

import { H2Relay } from '../../helpers/h2-relay.js';
import { until } from '../../helpers/http.js';
import { h2load, h2loadPath } from '../../helpers/h2load.js';
import { example, freePort, killAll, supervise } from '../../helpers/supervise.js';
import { h2Get } from '../../helpers/h2.js';

afterEach(() => killAll());

const request = (session: http2.ClientHttp2Session) => h2Get(session, '/');

describe('HTTP/2 drain: the two-step GOAWAY', () => {
  it('streams that cross the GOAWAY on the wire are answered, not refused', async () => {
    const port = await freePort();
    const s = supervise([example('h2c/server.js'), '-w', '1'], { env: { PORT: String(port) } });
    await s.ready();
    const relay = new H2Relay(port);
    const session = http2.connect(`http://127.0.0.1:${await relay.listen()}`);
    session.on('error', () => {});
    try {
      const first = await request(session);
      expect(first.status).toBe(200);

      s.signal('SIGHUP');
      // The server's GOAWAY is held back: the client has not seen it and sends 10 more requests.
      await relay.goaway;
      const crossing = Array.from({ length: 10 }, () => request(session));
      await relay.until(() => relay.headersAfterGoaway === 10);
      // The server answers PINGs in order: once it acked ours, it has read every request before it. (A
      // server that already sent its last GOAWAY answers no PING: bounded, so that such a drain fails here.)
      session.ping(() => {});
      await Promise.race([relay.until(() => relay.pingAcked), new Promise((r) => setTimeout(r, 5000))]);
      relay.release();

      const answers = await Promise.all(crossing);
      expect(answers.map((a) => a.error ?? a.status)).toEqual(Array(10).fill(200));
      expect(new Set(answers.map((a) => a.body))).toEqual(new Set([first.body]));
      const exit = await s.waitEvent('worker.exit', (l) => l.pid === Number(first.body.trim()));
      expect(exit.drain).toMatchObject({ forced: 0 });
    } finally {
      session.destroy();
      relay.close();
    }
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
  });

  const H2LOAD = h2loadPath();
  if (!H2LOAD) console.log('[skip] http2-goaway h2load: h2load not found (apt-get install -y nghttp2-client)');

  it.skipIf(!H2LOAD)(
    'h2load 10 x 10 through 3 SIGHUPs: 0 failed, 0 errored streams, each drain ends within 3 s',
    async () => {
      const port = await freePort();
      const s = supervise([example('h2c/server.js'), '-w', '2'], { env: { PORT: String(port) } });
      await s.ready();
      // Runs of 10 sessions x 10 streams, each sending its 10 streams at once and no more: a session that
      // gets its GOAWAY mid-run has every one of its streams on the wire or in the server, none unsent.
      // (h2load never opens a new HTTP/2 connection after a GOAWAY: with a larger -n it counts the
      // requests it then does not send as failed, and a request it had queued when the GOAWAY came is
      // refused by its own nghttp2 before it is sent.)
      const runs: Awaited<ReturnType<typeof h2load>>[] = [];
      let stop = false;
      const loop = (async () => {
        for (let i = 0; i < 2000 && !stop; i++) {
          runs.push(await h2load(port, ['-n', '100', '-c', '10', '-m', '10'], { timeoutMs: 15_000 }));
        }
      })();
      try {
        for (let round = 1; round <= 3; round++) {
          const mark = s.lines.length;
          const runsBefore = runs.length;
          s.signal('SIGHUP');
          const end = await s.waitEvent('rollout.end', undefined, 15_000, mark);
          expect(end.outcome).toBe('done');
          // How long a rollout takes is mostly how long new workers take to boot on this (shared) machine.
          expect(end.durationMs as number).toBeLessThan(10_000);
          // The load ran through the rollout.
          while (runs.length < runsBefore + 3) await new Promise((r) => setTimeout(r, 10));
        }
      } finally {
        stop = true;
        await loop;
      }
      const bad = runs.filter((r) => r.failed > 0 || r.errored > 0 || r.status2xx !== 100);
      expect(bad.map((r) => r.output)).toEqual([]);
      // What the drain governs: every old worker's sessions ended by GOAWAY, each drain within 3 s.
      await until(() => s.events('worker.exit').length >= 6, 15_000, 'the old workers to exit');
      const drains = s.events('worker.exit').map((l) => l.drain as { forced: number; durationMs: number });
      expect(drains).toHaveLength(6);
      for (const drain of drains) {
        expect(drain.forced).toBe(0);
        expect(drain.durationMs).toBeLessThan(3000);
      }
      s.signal('SIGTERM');
      expect((await s.waitExit()).code).toBe(0);
    },
  );
});
