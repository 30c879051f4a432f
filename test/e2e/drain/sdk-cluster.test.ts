/**
 * SDK apps under the master: WebSocket close codes, master loss, and a fresh connection during a drain.
 */
import http2 from 'node:http2';
import { createRequire } from 'node:module';

import { afterEach, describe, expect, it } from 'vitest';

import { get, pidsAnswering } from '../../helpers/http.js';
import { example, freePort, killAll, supervise, waitGone } from '../../helpers/supervise.js';

afterEach(() => killAll());

/** The part of the `ws` client this test uses (ws ships no types; it comes from the example's dependencies). */
interface WsClient {
  on(event: 'close', fn: (code: number, reason: Buffer) => void): void;
  once(event: 'message', fn: () => void): void;
  once(event: 'error', fn: (err: Error) => void): void;
}
const WebSocket = createRequire(example('websocket/package.json'))('ws') as new (url: string) => WsClient;

const workerSaid = (text: string) => (l: { src?: string; msg?: unknown }) =>
  l.src === 'worker' && String(l.msg).includes(text);

describe('SDK apps under supervise', () => {
  it('ws: every WebSocket client receives close code 1001 "going away", and nothing is forced', async () => {
    const port = await freePort();
    const s = supervise([example('websocket/server.js'), '-w', '1', '--kill-timeout', '4000'], {
      env: { PORT: String(port) },
    });
    await s.ready();
    expect(s.events('worker.state').find((l) => l.to === 'ready')?.drain).toBe('sdk');
    const clients = await Promise.all(
      [1, 2].map(
        () =>
          new Promise<{ closed: Promise<{ code: number; reason: string }> }>((resolve, reject) => {
            const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
            const closed = new Promise<{ code: number; reason: string }>((done) =>
              ws.on('close', (code, reason) => done({ code, reason: reason.toString() })),
            );
            ws.once('message', () => resolve({ closed }));
            ws.once('error', reject);
          }),
      ),
    );
    s.signal('SIGTERM');
    for (const c of clients) expect(await c.closed).toEqual({ code: 1001, reason: 'going away' });
    expect((await s.waitExit()).code).toBe(0);
    const exit = s.events('worker.exit')[0];
    expect(exit?.drain).toMatchObject({ closedLongLived: 2, forced: 0 });
  });

  it('five servers in one worker (http, https, h2, h2c, net): the HTTP/2 stream open at the stop gets GOAWAY and finishes', async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const env = { PORT: ports[0], HTTPS_PORT: ports[1], H2_PORT: ports[2], H2C_PORT: ports[3], NET_PORT: ports[4] };
    const s = supervise([example('servers/server.js'), '-w', '1'], {
      env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
    });
    await s.ready();
    const session = http2.connect(`https://127.0.0.1:${env.H2_PORT}`, { rejectUnauthorized: false });
    session.on('error', () => {});
    let goaway = false;
    session.on('goaway', () => (goaway = true));
    const stream = session.request({ ':path': '/slow?ms=1200' });
    let body = '';
    stream.setEncoding('utf8').on('data', (c: string) => (body += c));
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('end', () => resolve());
      stream.on('error', reject);
    });
    await s.waitFor(workerSaid('slow 1200 started (HTTP/2.0)'));
    s.signal('SIGTERM');
    await ended;
    expect(goaway).toBe(true);
    expect(body).toMatch(/^slow 1200 \d+\n$/);
    expect((await s.waitExit()).code).toBe(0);
    expect(s.events('worker.exit')[0]?.drain).toMatchObject({ forced: 0, closedLongLived: 1 });
    session.destroy();
  });

  it('master loss: SIGKILL the master with a slow request in flight; it completes and every worker drains and exits', async () => {
    const port = await freePort();
    const s = supervise([example('express/server-sdk.js'), '-w', '2'], { env: { PORT: String(port) } });
    await s.ready();
    const workers = s.forkedPids();
    const slow = get(port, '/slow?ms=1500');
    await s.waitFor(workerSaid('slow request: 1500 ms'));
    s.signal('SIGKILL');
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(/^slow 1500 \d+\n$/);
    expect(answer.headers.connection).toBe('close');
    await waitGone(workers, 5_000);
  });

  it('Fastify: a fresh connection during a drain reaches a new worker; fastify.close() runs its onClose hooks at the end', async () => {
    const port = await freePort();
    const s = supervise([example('fastify/server-sdk.js'), '-w', '2', '--surge', '2', '--log-level', 'debug'], {
      env: { PORT: String(port) },
    });
    await s.ready();
    const old = s.forkedPids();
    const slow = get(port, '/slow?ms=2500');
    await s.waitFor(workerSaid('slow request: 2500 ms'));
    s.signal('SIGHUP');
    // Both old workers are draining, one of them held open by the slow request, and neither accepts any more
    // (with a shared socket that is the worker's own word, a moment after the master's order).
    await s.waitFor(() => s.events('worker.state').filter((l) => l.to === 'draining').length === 2, 10_000);
    await s.waitFor(() => s.events('worker.closed').length === 2, 10_000);
    const during = await pidsAnswering(port, 20);
    expect(during.size).toBeGreaterThan(0);
    for (const pid of during) expect(old).not.toContain(pid);
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(old).toContain(Number(answer.body.split(' ')[2]));
    expect(await s.waitEvent('rollout.end')).toMatchObject({ outcome: 'done', replaced: 2 });
    // The rollout ends once the old workers began to drain; their hooks run as each one finishes.
    for (const pid of old) await s.waitEvent('worker.exit', (l) => l.pid === pid, 15_000);
    for (const pid of old) {
      expect(s.lines.some((l) => l.pid === pid && workerSaid('onClose hook ran')(l))).toBe(true);
    }
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
  });
});
