/**
 * No request runs without its answer (issue 26, cases 1 and 2), on an unmodified node:http app that logs every
 * request it runs: a request that reaches the app must get its response on the wire, or never reach the app.
 * Raw sockets, so that what goes on the wire is exactly the edge under test.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { RawConnection, untilDraining } from '../../helpers/raw-http.js';
import { fixture, freePort, killAll, runCli, type Supervised, supervise } from '../../helpers/supervise.js';

afterEach(() => killAll());

/** The paths the app ran in worker `pid`, from its "ran <path> <pid>" lines (read once the worker exited). */
function ran(s: Supervised, pid: number): string[] {
  const out: string[] = [];
  for (const l of s.lines) {
    const m = typeof l.msg === 'string' ? l.msg.match(/^ran (\S+) (\d+)$/) : null;
    if (m && Number(m[2]) === pid) out.push(m[1]!);
  }
  return out;
}

async function start(extra: string[] = [], env: Record<string, string> = {}) {
  const port = await freePort();
  const s = supervise([fixture('drain/pipeline-app.js'), '-w', '1', ...extra], { env: { PORT: String(port), ...env } });
  await s.ready();
  return { s, port };
}

describe('a request reaches the app only if its answer can be written', () => {
  it("pipelined behind a drain's Connection: close answer: the request behind it never runs", async () => {
    const { s, port } = await start();
    const main = new RawConnection(port);
    const probe = new RawConnection(port);
    await Promise.all([main.connected(), probe.connected()]);
    main.send('/warm');
    const warm = await main.next();
    const pid = Number(warm!.body.split(' ')[1]);
    probe.send('/probe');
    await probe.next();

    s.signal('SIGHUP');
    // The worker drains once its answers say `Connection: close`: ask on the probe connection until one does.
    // (The new worker boots first: bounded by 15 s and 3000 probes, paced.)
    expect(await untilDraining(probe)).toBe(true);

    // Two requests in one segment on a kept-alive socket of the draining worker.
    main.send('/a', '/b');
    const answers = await main.rest();
    await s.waitEvent('worker.exit', (l) => l.pid === pid);
    const answered = answers.map((a) => a.body.split(' ')[0]);
    expect(answered[0]).toBe('/a');
    expect(answers[0]!.connection).toBe('close');
    // Every request the app ran was answered: /b was either answered too, or never ran.
    const ranMain = ran(s, pid).filter((p) => p === '/a' || p === '/b');
    expect(ranMain).toEqual(answered);
    main.close();
    probe.close();
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
  });

  it('a request on a socket the idle rule half-closed never runs', async () => {
    const { s, port } = await start(['--idle-grace', '100']);
    const main = new RawConnection(port);
    await main.connected();
    main.send('/warm');
    const pid = Number((await main.next())!.body.split(' ')[1]);

    s.signal('SIGHUP');
    // The idle rule ends the socket (FIN) and keeps reading for a while: a request written now, by a client that
    // has not seen the FIN yet, arrives on a socket whose answers can no longer be written.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no FIN from the draining worker within 10 s')), 10_000);
      main.socket.once('end', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    main.send('/late');
    const answers = await main.rest();
    await s.waitEvent('worker.exit', (l) => l.pid === pid);
    expect(answers).toEqual([]);
    expect(ran(s, pid)).toEqual(['/warm']);
    main.close();
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
  });

  it("pipelined behind the balancer's Connection: close (no rollout): the request behind it never runs", async () => {
    const { s, port } = await start(['--accept', 'shared', '--log-level', 'debug']);
    const sock = (await s.waitEvent('control.listening')).path as string;
    const conns = Array.from({ length: 8 }, () => new RawConnection(port));
    await Promise.all(conns.map((c) => c.connected()));
    for (const [i, c] of conns.entries()) {
      c.send(`/warm-${i}`);
      await c.next();
    }
    const [first] = s.servingPids();
    // A second worker: the first holds all 8 keep-alive connections and is asked to move about half.
    expect((await runCli(['scale', '2', '--control', sock])).code).toBe(0);
    await s.waitEvent('balance.shed', (l) => l.pid === first, 15_000);

    // The master logs balance.shed as it sends the order; the worker marks its connections when it reads it. A
    // round that went out before that moves nothing: pipeline again on the connections still open, a bounded
    // number of rounds, until one moved.
    const answered: string[] = [];
    let moved = 0;
    let open = [...conns.entries()];
    for (let round = 0; moved === 0 && open.length > 0 && round < 20; round++) {
      for (const [i, c] of open) c.send(`/a-${i}-${round}`, `/b-${i}-${round}`);
      const staying: typeof open = [];
      for (const [i, c] of open) {
        // Two answers on a connection that stays; one with `Connection: close` and then the end on one that moves.
        const a = await c.next();
        if (a) answered.push(a.body.split(' ')[0]!);
        if (a?.connection === 'close') {
          moved++;
          for (const b of await c.rest()) answered.push(b.body.split(' ')[0]!);
        } else {
          const b = await c.next();
          if (b) answered.push(b.body.split(' ')[0]!);
          staying.push([i, c]);
        }
      }
      open = staying;
    }
    // Some connections may still be open (not moved): their answers are in. Stop, so every log line is in.
    for (const c of conns) c.close();
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
    expect(moved).toBeGreaterThan(0);
    const ranPipelined = ran(s, first!).filter((p) => /^\/[ab]-/.test(p));
    expect(ranPipelined.sort()).toEqual(answered.filter((p) => /^\/[ab]-/.test(p)).sort());
  });
});
