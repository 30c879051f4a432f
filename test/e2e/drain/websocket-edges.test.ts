/**
 * WebSockets at the drain's edges (issue 26, cases 5, 6, 7), with the `ws` library on both sides: no message
 * the app believes sent is dropped silently, no close frame before the handshake's 101, and an onDrain hook
 * that does not touch the WebSockets does not stop the engine from closing them.
 */
import { createRequire } from 'node:module';

import type WebSocketClass from 'ws';

import { afterEach, describe, expect, it } from 'vitest';

import { RawConnection, untilDraining } from '../../helpers/raw-http.js';
import { example, fixture, freePort, killAll, type Supervised, supervise } from '../../helpers/supervise.js';

const WebSocket = createRequire(example('websocket-plain/server.js'))('ws') as typeof WebSocketClass;

afterEach(() => killAll());

interface Chatty {
  id: string;
  /** The last echo received, as its sequence number. */
  lastEcho: string;
  close: Promise<{ code: number; reason: string }>;
  pid: number;
  stop(): void;
}

/** A client that sends "<id>:<n>" every `everyMs` and keeps the last echo it received. */
async function chatty(port: number, id: string, everyMs: number): Promise<Chatty> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  ws.on('error', () => {});
  const state = { lastEcho: 'none', pid: 0 };
  await new Promise<void>((resolve, reject) => {
    ws.once('message', (data) => {
      state.pid = Number(String(data));
      resolve();
    });
    ws.once('error', reject);
  });
  ws.on('message', (data) => (state.lastEcho = String(data).split(':')[1]!));
  let n = 0;
  // Bounded: at most 5000 messages.
  const timer = setInterval(() => {
    if (ws.readyState === WebSocket.OPEN && n < 5000) ws.send(`${id}:${++n}`);
  }, everyMs);
  const close = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => {
      clearInterval(timer);
      resolve({ code, reason: reason.toString() });
    }),
  );
  return {
    id,
    get lastEcho() {
      return state.lastEcho;
    },
    close,
    pid: state.pid,
    stop: () => {
      clearInterval(timer);
      ws.terminate();
    },
  };
}

function lastSent(s: Supervised, id: string): string | undefined {
  for (const l of s.lines) {
    const m = typeof l.msg === 'string' ? l.msg.match(/^last-sent (\S+) (\S+) \d+$/) : null;
    if (m && m[1] === id) return m[2];
  }
  return undefined;
}

async function start(env: Record<string, string> = {}, extra: string[] = []) {
  const port = await freePort();
  const s = supervise([fixture('drain/ws-ack-app.js'), '-w', '1', ...extra], { env: { PORT: String(port), ...env } });
  await s.ready();
  return { s, port };
}

describe('WebSockets at the edges of a drain', () => {
  it('no message the app believes sent is dropped: each client got the last echo the app counts as sent', async () => {
    const { s, port } = await start();
    const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => chatty(port, `c${i}`, 1)));
    // Every client has had echoes back before the drain.
    while (clients.some((c) => c.lastEcho === 'none')) await new Promise((r) => setTimeout(r, 10));
    s.signal('SIGHUP');
    const closes = await Promise.all(clients.map((c) => c.close));
    for (const c of closes) expect(c).toEqual({ code: 1012, reason: 'service restart' });
    const pid = clients[0]!.pid;
    await s.waitEvent('worker.exit', (l) => l.pid === pid);
    const pairs = clients.map((c) => ({ id: c.id, app: lastSent(s, c.id), client: c.lastEcho }));
    expect(pairs).toEqual(clients.map((c) => ({ id: c.id, app: c.lastEcho, client: c.lastEcho })));
    for (const c of clients) c.stop();
  });

  it('an upgrade that arrives during the drain gets its 101 before the close frame', async () => {
    const { s, port } = await start({ VERIFY_MS: '300' });
    const keep = new RawConnection(port);
    const probe = new RawConnection(port);
    await Promise.all([keep.connected(), probe.connected()]);
    keep.send('/warm');
    const pid = Number((await keep.next())!.body.split(' ')[1]);
    s.signal('SIGHUP');
    // The worker drains once its answers say `Connection: close` (bounded: 15 s, 3000 paced probes).
    expect(await untilDraining(probe)).toBe(true);

    // A WebSocket handshake on the kept-alive connection of the draining worker.
    const bytes: Buffer[] = [];
    keep.socket.removeAllListeners('data');
    keep.socket.setEncoding('latin1');
    keep.socket.on('data', (chunk: string) => bytes.push(Buffer.from(chunk, 'latin1')));
    keep.socket.write(
      'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    // Until the server ends the connection (the client never answers the close: the server cuts it).
    await new Promise<void>((resolve) => {
      if (keep.ended || keep.closed) resolve();
      keep.socket.once('end', () => resolve());
      keep.socket.once('close', () => resolve());
    });
    const wire = Buffer.concat(bytes);
    expect(wire.toString('latin1', 0, 12)).toBe('HTTP/1.1 101');
    const headEnd = wire.indexOf('\r\n\r\n');
    // Right after the handshake: the pid message (a text frame), then the close frame 1012.
    const frames = wire.subarray(headEnd + 4);
    const close = frames.indexOf(0x88);
    expect(close).toBeGreaterThanOrEqual(0);
    expect(frames.readUInt16BE(close + 2)).toBe(1012);
    await s.waitEvent('worker.exit', (l) => l.pid === pid);
    keep.close();
    probe.close();
  });

  it('an onDrain hook that does not touch the WebSockets: busy clients are still closed with 1012, none forced', async () => {
    const { s, port } = await start({ WITH_SDK_HOOK: '1' }, ['--kill-timeout', '8000']);
    const clients = await Promise.all(Array.from({ length: 10 }, (_, i) => chatty(port, `h${i}`, 1)));
    while (clients.some((c) => c.lastEcho === 'none')) await new Promise((r) => setTimeout(r, 10));
    s.signal('SIGHUP');
    const closes = await Promise.all(clients.map((c) => c.close));
    for (const c of closes) expect(c).toEqual({ code: 1012, reason: 'service restart' });
    const pid = clients[0]!.pid;
    const exit = await s.waitEvent('worker.exit', (l) => l.pid === pid);
    expect(exit.drain).toMatchObject({ forced: 0 });
    for (const c of clients) c.stop();
  });
});
