/**
 * Lossless at scale (issue 20): the race behind the losses from 3,000 connections up, made deterministic. A
 * loaded client's event loop runs its timers before it reads its sockets, so a client that stalled writes its
 * next request on a socket whose FIN already sits unread in its buffer. Here: 2,000 keep-alive sockets, quiet
 * for a moment (as between two requests of a slow client); the client stalls just as the old worker begins to
 * drain, then writes a request on every socket before it reads anything. Under a fixed 1 s idle grace the
 * drain had closed them all: every request is lost. Under the default rule (the keep-alive timeout the app
 * advertises: 30 s here, so that however slowly the replacement boots on a loaded machine, node's own keep-alive
 * timer does not close the sockets first) none was closed: every request is answered, with `Connection: close`.
 */
import net from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { fixture, freePort, killAll, supervise } from '../../helpers/supervise.js';

afterEach(() => killAll());

const SOCKETS = 2_000;

/** Opens n keep-alive sockets, each answered once; resolves with them and what each has read. */
async function openSockets(port: number, n: number): Promise<{ socket: net.Socket; data: string; closed: boolean }[]> {
  const all: { socket: net.Socket; data: string; closed: boolean }[] = [];
  for (let i = 0; i < n; i += 250) {
    await Promise.all(
      Array.from(
        { length: Math.min(250, n - i) },
        () =>
          new Promise<void>((resolve, reject) => {
            const socket = net.connect(port, '127.0.0.1');
            const entry = { socket, data: '', closed: false };
            all.push(entry);
            socket.setEncoding('utf8');
            socket.on('data', (d: string) => {
              entry.data += d;
              if (entry.data.includes('\r\n\r\n')) resolve();
            });
            socket.on('error', () => {});
            socket.on('close', () => (entry.closed = true));
            socket.once('connect', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
            setTimeout(() => reject(new Error('no first answer within 10 s')), 10_000).unref();
          }),
      ),
    );
  }
  return all;
}

/** Responses in `data`. */
const answers = (data: string) => (data.match(/HTTP\/1\.1 200 OK/g) ?? []).length;

async function run(extra: string[]): Promise<{ answered: number; closeHeaders: number }> {
  const port = await freePort();
  const s = supervise([fixture('rollout/keepalive-app.js'), '-w', '1', ...extra], { env: { PORT: String(port) } });
  await s.ready();
  const sockets = await openSockets(port, SOCKETS);
  for (const e of sockets) e.data = ''; // from here on, only the answers to the request written after the stall
  // Quiet for longer than a 1 s grace, well within the app's keep-alive timeout.
  await new Promise((r) => setTimeout(r, 1_300));
  const mark = s.lines.length;
  s.signal('SIGHUP');
  await s.waitEvent('worker.state', (l) => l.to === 'draining', 15_000, mark);
  // The stall: whatever the drain sends now reaches this process's sockets, unread.
  const until = Date.now() + 300;
  while (Date.now() < until);
  // Timers before reads: the next request goes out on every socket first.
  for (const e of sockets) if (!e.socket.destroyed) e.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await s.waitEvent('worker.exit', (l) => l.generation === 1, 15_000, mark);
  await new Promise((r) => setTimeout(r, 200));
  const answered = sockets.reduce((n, e) => n + answers(e.data), 0);
  const closeHeaders = sockets.filter((e) => /\r\nConnection: close\r\n/i.test(e.data)).length;
  for (const e of sockets) e.socket.destroy();
  s.signal('SIGTERM');
  expect((await s.waitExit()).code).toBe(0);
  return { answered, closeHeaders };
}

describe(`${SOCKETS} keep-alive sockets and a client that stalls as the drain begins`, () => {
  it('the default idle rule (the keep-alive timeout the app advertises) answers every request; the old 1 s grace answers none', async () => {
    const keepAlive = await run([]);
    const oneSecond = await run(['--idle-grace', '1s']);
    console.log(
      `stalled client, ${SOCKETS} sockets: default rule ${keepAlive.answered} answered; --idle-grace 1s ${oneSecond.answered} answered`,
    );
    expect(keepAlive.answered).toBe(SOCKETS);
    expect(keepAlive.closeHeaders).toBe(SOCKETS);
    // The same client under the 1 s grace: its requests met sockets the drain had already closed.
    expect(oneSecond.answered).toBeLessThan(SOCKETS / 10);
  }, 60_000);
});
