/**
 * A worker that dies on its own in the middle of a stop (issue 27): its request handler throws while it drains.
 * The stop is not clean: the master exits 1, and a warning names the worker and how it died.
 */
import http from 'node:http';

import { afterEach, describe, expect, it } from 'vitest';

import { fixture, freePort, killAll, supervise, waitGone } from '../../helpers/supervise.js';

afterEach(() => killAll());

describe('faults: a crash during the stop', () => {
  it('a handler throws while its worker drains: exit 1, a warning naming the worker, the stopped line', async () => {
    const port = await freePort();
    const s = supervise([fixture('faults/crash-in-drain.js'), '-w', '2', '--heartbeat', '100'], {
      env: { PORT: String(port) },
    });
    await s.ready();
    // A request the crash will cut: its error is expected.
    const cut = new Promise<string>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/work', agent: false }, (res) => {
        res.resume();
        res.on('error', (e) => resolve(String(e)));
        res.on('close', () => resolve('closed'));
      });
      req.on('error', (e) => resolve(String(e)));
    });
    await s.waitInFlight(1);

    s.signal('SIGTERM');
    const { code } = await s.waitExit(15_000);
    expect(code).toBe(1);
    await cut;
    const died = s.events('worker.exit').filter((l) => l.died === true);
    expect(died).toHaveLength(1);
    const pid = died[0]!.pid as number;
    expect(died[0]!.level).toBe(40);
    expect(String(died[0]!.msg)).toBe(`worker ${pid} died during its drain (stop): it exited with code 1`);
    // The clean one is reported as such.
    expect(s.events('worker.exit').filter((l) => l.died !== true && l.level === 30)).toHaveLength(1);
    const stopped = s.events('master.stopped');
    expect(stopped).toHaveLength(1);
    expect(stopped[0]).toMatchObject({ exitCode: 1, died: [pid] });
    expect(String(stopped[0]!.msg)).toMatch(new RegExp(`exit code 1: worker ${pid} died during its drain$`));
    await waitGone([s.pid, ...s.forkedPids()]);
  });
});

describe('every exit of the master has its stopped line', () => {
  it('a second SIGTERM during the stop: every worker killed, exit 143, the stopped line says so', async () => {
    const port = await freePort();
    const s = supervise([fixture('faults/fault-app.js'), '-w', '1', '--kill-timeout', '20000'], {
      env: { PORT: String(port) },
    });
    await s.ready();
    // A request that holds the drain, so that the stop is still going when the second signal comes.
    const slow = http.get({ host: '127.0.0.1', port, path: '/slow?ms=15000', agent: false });
    slow.on('error', () => {});
    await s.waitFor((l) => l.src === 'worker' && /slow request/.test(String(l.msg)), 10_000);
    s.signal('SIGTERM');
    await s.waitEvent('master.stopping', undefined, 10_000);
    s.signal('SIGTERM');
    expect((await s.waitExit(10_000)).code).toBe(143);
    const stopped = s.events('master.stopped');
    expect(stopped).toHaveLength(1);
    expect(stopped[0]).toMatchObject({ exitCode: 143, forced: true });
    slow.destroy();
    await waitGone([s.pid, ...s.forkedPids()]);
  });
});
