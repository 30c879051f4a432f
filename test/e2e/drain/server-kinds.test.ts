/**
 * Every kind of server drained as what each connection is (issue 26, case 4): on an HTTP/2 server over TLS
 * with allowHTTP1, ALPN decides, and an HTTP/1.1 connection is drained as HTTP/1 (Connection: close on the
 * answer in flight, the idle rule for an idle one), not left to the deadline.
 */
import http2 from 'node:http2';

import { afterEach, describe, expect, it } from 'vitest';

import { get } from '../../helpers/http.js';
import { RawConnection, untilDraining } from '../../helpers/raw-http.js';
import { fixture, freePort, killAll, supervise } from '../../helpers/supervise.js';
import { h2Get } from '../../helpers/h2.js';

afterEach(() => killAll());

describe('server kinds', () => {
  it('http2.createSecureServer({ allowHTTP1 }): its HTTP/1.1 connections are drained as HTTP/1, its sessions as HTTP/2, nothing forced', async () => {
    const port = await freePort();
    const s = supervise(
      [fixture('drain/h2-allow-http1-app.js'), '-w', '1', '--idle-grace', '200', '--kill-timeout', '6000'],
      { env: { PORT: String(port) } },
    );
    await s.ready();
    const busy = new RawConnection(port, { secure: true });
    const idle = new RawConnection(port, { secure: true });
    await Promise.all([busy.connected(), idle.connected()]);
    idle.send('/');
    const first = await idle.next();
    const pid = Number(first!.body.split(' ')[1]);
    busy.send('/hold');
    await s.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith(`ran /hold ${pid} HTTP/1.1`));
    // And an HTTP/2 session on the same server (ALPN h2), with a stream in flight.
    const session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
    session.on('error', () => {});
    let goaway = false;
    session.on('goaway', () => (goaway = true));
    const h2 = h2Get(session, '/hold').then((r) => (r.error === undefined ? r : Promise.reject(new Error(r.error))));
    await s.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith(`ran /hold ${pid} HTTP/2.0`));

    s.signal('SIGHUP');
    // The idle one is closed by the idle rule, cleanly (no reset): the drain has begun in the worker. Only then
    // are the held answers released, so they are answers of a draining server however long the new worker took.
    expect(await idle.rest(30_000)).toEqual([]);
    expect(idle.error).toBeNull();
    process.kill(pid, 'SIGWINCH');
    const held = await busy.next();
    expect(held).toMatchObject({ status: 200, connection: 'close' });
    expect(await busy.rest()).toEqual([]);
    expect(await h2).toEqual({ status: 200, body: `/hold ${pid}\n` });
    expect(goaway).toBe(true);
    session.close();

    const exit = await s.waitEvent('worker.exit', (l) => l.pid === pid);
    expect(exit.drain).toMatchObject({ forced: 0, timedOut: false });
    expect(exit.code).toBe(0);
    busy.close();
    idle.close();
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
  });

  it('a server whose listen() completes after the drain began is closed at once', async () => {
    const [port, adminPort] = [await freePort(), await freePort()];
    const s = supervise([fixture('drain/late-listen-app.js'), '-w', '1'], {
      env: { PORT: String(port), ADMIN_PORT: String(adminPort) },
    });
    await s.ready();
    const main = new RawConnection(port);
    const probe = new RawConnection(port);
    const keep = new RawConnection(port);
    await Promise.all([main.connected(), probe.connected(), keep.connected()]);
    main.send('/warm');
    keep.send('/warm');
    const pid = Number((await main.next())!.body.split(' ')[1]);
    await keep.next();

    s.signal('SIGHUP');
    // The worker drains once its answers say `Connection: close` (bounded: 15 s, 3000 paced probes).
    expect(await untilDraining(probe)).toBe(true);

    // A held request keeps the draining worker alive while it opens its admin server, until the probes are done.
    keep.send('/hold');
    main.send('/listen-admin');
    expect((await main.next())?.body).toBe(`/listen-admin ${pid}\n`);
    await s.waitFor((l) => l.msg === `admin listening ${pid}`);
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) {
      answers.push(
        await get(adminPort, '/', 3000).then(
          (a) => a.body.trim(),
          (e: NodeJS.ErrnoException) => e.code ?? 'error',
        ),
      );
    }
    expect(answers.filter((a) => a === `admin ${pid}`)).toEqual([]);
    process.kill(pid, 'SIGWINCH');
    expect((await keep.next())?.body).toBe(`/hold ${pid}\n`);
    keep.close();
    const exit = await s.waitEvent('worker.exit', (l) => l.pid === pid);
    expect(exit.drain).toMatchObject({ forced: 0 });
    main.close();
    probe.close();
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
  });
});
