/**
 * Which drain each kind of app gets. The master logs it on the ready line (`drain`): the preload for any app
 * that does not import the SDK (CommonJS, ES module, TypeScript through tsx), the SDK when the app imports
 * it (the preload then stays passive), nothing with --no-auto-drain. And what the preload cannot close
 * cleanly (upgraded sockets, HTTP/2 sessions) is forced at the deadline, with a log that names the SDK.
 */
import http2 from 'node:http2';
import net from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { get } from '../../helpers/http.js';
import { example, fixture, freePort, killAll, type Supervised, supervise, waitGone } from '../../helpers/supervise.js';

afterEach(() => killAll());

async function startOne(
  args: string[],
  opts: { cwd?: string } = {},
): Promise<{ s: Supervised; port: number; mode: unknown }> {
  const port = await freePort();
  const s = supervise([...args, '-w', '1', '--kill-timeout', '3000'], { env: { PORT: String(port) }, ...opts });
  await s.ready();
  const ready = await s.waitEvent('worker.state', (l) => l.to === 'ready');
  return { s, port, mode: ready.drain };
}

async function stop(s: Supervised): Promise<number | null> {
  s.signal('SIGTERM');
  const { code } = await s.waitExit();
  await waitGone([s.pid, ...s.forkedPids()]);
  return code;
}

describe('auto drain: which apps get the preload', () => {
  it('a CommonJS app, an ES module app and a TypeScript app run with --import tsx all get the preload', async () => {
    const apps = await Promise.all([
      startOne([example('http-basic/server.js')]),
      startOne([example('esm/plain.mjs')]),
      startOne([example('typescript/plain.ts'), '--node-args', '--import tsx'], { cwd: example('typescript') }),
    ]);
    for (const { s, port, mode } of apps) {
      expect(mode).toBe('preload');
      const pid = Number((await get(port, '/')).body);
      expect(s.forkedPids()).toContain(pid);
    }
    const codes = await Promise.all(apps.map(({ s }) => stop(s)));
    expect(codes).toEqual([0, 0, 0]);
    // Each worker acked its drain with the engine's stats: the preload drained it, not a signal.
    for (const { s } of apps) expect(s.events('worker.exit')[0]?.drain).toMatchObject({ forced: 0 });
  });

  it('an ES module app and a TypeScript app that import the SDK run it (the preload stays passive)', async () => {
    const apps = await Promise.all([
      startOne([example('esm/server.mjs')]),
      startOne([example('typescript/server.ts'), '--node-args', '--import tsx'], { cwd: example('typescript') }),
    ]);
    for (const { mode } of apps) expect(mode).toBe('sdk');
    const slow = apps.map(({ port }) => get(port, '/slow?ms=1000'));
    await Promise.all(apps.map(({ s }) => s.waitFor((l) => l.src === 'worker' && l.msg === 'slow request: 1000 ms')));
    const codes = await Promise.all(apps.map(({ s }) => stop(s)));
    expect(codes).toEqual([0, 0]);
    for (const answer of await Promise.all(slow))
      expect(answer).toMatchObject({ status: 200, headers: { connection: 'close' } });
    for (const { s } of apps) {
      expect(s.lines.some((l) => l.src === 'worker' && /shutdown hook ran/.test(String(l.msg)))).toBe(true);
    }
  });

  it('--no-auto-drain: the engine is not even loaded, and the master still stops the worker cleanly', async () => {
    const [off, on] = await Promise.all([
      startOne([fixture('drain/sdk-engine-probe.js'), '--no-auto-drain']),
      startOne([fixture('drain/sdk-engine-probe.js')]),
    ]);
    expect(off.mode).toBe('none');
    expect(on.mode).toBe('preload');
    const printed = (s: Supervised) => s.waitFor((l) => l.src === 'worker' && /^engine loaded:/.test(String(l.msg)));
    expect((await printed(off.s)).msg).toBe('engine loaded: false');
    expect((await printed(on.s)).msg).toBe('engine loaded: true');
    expect(await get(off.port, '/')).toMatchObject({ status: 200 });
    expect(await Promise.all([stop(on.s), stop(off.s)])).toEqual([0, 0]);
    const exit = off.s.events('worker.exit')[0];
    expect(exit).toMatchObject({ killed: false, code: 0 });
    expect(exit?.drain).toBeUndefined();
  });

  it('without the SDK, an HTTP/2 session gets GOAWAY, and a non-WebSocket upgrade is forced at the deadline with the log naming it', async () => {
    const [port, h2cPort] = await Promise.all([freePort(), freePort()]);
    const s = supervise(
      [fixture('drain/sdk-none-longlived.js'), '-w', '1', '--kill-timeout', '2500', '--drain-timeout', '1000'],
      {
        env: { PORT: String(port), H2C_PORT: String(h2cPort) },
      },
    );
    await s.ready();
    const upgraded = net.connect(port, '127.0.0.1');
    upgraded.on('error', () => {});
    upgraded.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n');
    await new Promise<void>((resolve) => upgraded.once('data', () => resolve()));
    const session = http2.connect(`http://127.0.0.1:${h2cPort}`);
    session.on('error', () => {});
    await new Promise<void>((resolve) => {
      const stream = session.request({ ':path': '/' });
      stream.resume();
      stream.on('end', () => resolve());
    });
    s.signal('SIGTERM');
    const exit = await s.waitEvent('worker.exit');
    expect(exit.killed).toBe(false);
    expect(exit.drain).toMatchObject({
      forced: 1,
      forcedKinds: { upgraded: 1, http2: 0, websocket: 0 },
      closedLongLived: 1,
      timedOut: true,
    });
    expect(String(exit.msg)).toMatch(
      /forced at the deadline: 1 upgraded \(not WebSocket\); close raw protocol connections in an onDrain hook/,
    );
    expect((await s.waitExit()).code).toBe(1);
    upgraded.destroy();
    session.destroy();
  });
});
