/**
 * The SDK without a master (plain `node app.js`, as in a container): SIGTERM runs the drain, and every kind
 * of HTTP/1 connection open at that moment ends well. One process and one drain carry all the cases; each
 * `it` checks one of them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';

import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { get, until } from '../../helpers/http.js';
import { fixture, freePort } from '../../helpers/supervise.js';

interface Raw {
  data: string;
  closed: Promise<{ at: number; error: string | null }>;
  socket: net.Socket;
}

function raw(port: number): Raw {
  const socket = net.connect(port, '127.0.0.1');
  const r: Raw = { data: '', socket, closed: null as never };
  socket.setEncoding('utf8');
  socket.on('data', (c: string) => (r.data += c));
  r.closed = new Promise((resolve) => {
    let error: string | null = null;
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.on('close', () => resolve({ at: Date.now(), error }));
  });
  return r;
}

let child: ChildProcess;
let stdout = '';
let stderr = '';
let exit: Promise<number | null>;
let sigtermAt = 0;
const outcome: Record<string, unknown> = {};

function printed(line: string, timeoutMs = 5_000): Promise<boolean> {
  return until(() => stdout.includes(line), timeoutMs, `the app to print "${line}"`);
}

beforeAll(async () => {
  const port = await freePort();
  child = spawn(process.execPath, [fixture('drain/sdk-http.js')], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  await printed('listening');

  // A slow request on its own connection.
  const slow = get(port, '/slow?ms=1500');
  // Three pipelined requests in one write, none answered yet when the drain starts. Marking each of them
  // `Connection: close` would close the socket after the first and lose the other two.
  const pipe = raw(port);
  pipe.socket.write(
    ['/slow?ms=700', '/slow?ms=800', '/slow?ms=900'].map((p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`).join(''),
  );
  // An upload: half the body now, the rest once the drain has begun.
  const upload = raw(port);
  upload.socket.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345');
  // A streaming response that is not an event stream: 10 chunks, 100 ms apart.
  const events: string[] = [];
  const stream = new Promise<{ events: string[]; error: string | null }>((resolve) => {
    http
      .get({ host: '127.0.0.1', port, path: '/stream?n=10&ms=100', agent: false }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (c: string) => events.push(...c.split('\n\n').filter(Boolean)));
        res.on('end', () => resolve({ events, error: null }));
        res.on('error', (e) => resolve({ events, error: e.message }));
      })
      .on('error', (e) => resolve({ events, error: e.message }));
  });
  // A server-sent event stream that never ends by itself (the app keeps writing after the drain ended it).
  const sse = raw(port);
  sse.socket.write('GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
  await until(() => sse.data.includes('data: 1\n\n'), 5_000, 'the event stream to carry two events');
  // An idle keep-alive socket: one request, then quiet. The app's keepAliveTimeout is 30 s.
  const idle = raw(port);
  idle.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await until(() => idle.data.includes('\r\n\r\n'), 5_000, 'the idle socket to get its answer');
  // A busy keep-alive client: back-to-back requests on one connection, until the server says close.
  const busy = new Client(`http://127.0.0.1:${port}`, { pipelining: 1, keepAliveTimeout: 30_000 });
  const busyLoop = (async () => {
    const seen: { status: number; connection: string | undefined }[] = [];
    const errors: string[] = [];
    for (;;) {
      try {
        const res = await busy.request({ path: '/ready', method: 'GET' });
        await res.body.text();
        const connection = res.headers.connection as string | undefined;
        seen.push({ status: res.statusCode, connection });
        if (connection === 'close') break;
      } catch (err) {
        errors.push(String(err));
        break;
      }
    }
    return { seen, errors };
  })();

  // Two more keep-alive sockets, answered just before the drain: one will make the process busy, the other
  // sends its next request while the process cannot read it.
  const blocker = raw(port);
  const late = raw(port);
  for (const r of [blocker, late]) {
    r.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => r.data.includes('\r\n\r\n'), 5_000, 'an answer');
    r.data = '';
  }

  await printed('request GET /slow?ms=1500');
  await printed('request GET /slow?ms=900');
  await printed('request POST /upload');
  await until(() => events.length > 0, 5_000, 'the first event');

  sigtermAt = Date.now();
  child.kill('SIGTERM');
  const busyResult = await busyLoop;
  // The drain has begun. Block the process for 1.5 s; 300 ms in, the other socket (quiet for well under the
  // 1 s idle grace, as its client sees it) sends a request. When the process wakes up the idle timer has
  // expired, but the request is waiting in the socket: it must be answered, not closed under.
  blocker.socket.write('GET /block?ms=1500 HTTP/1.1\r\nHost: x\r\n\r\n');
  await printed('request GET /block?ms=1500');
  await new Promise((r) => setTimeout(r, 300));
  late.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  // The busy client saw 503 with Connection: close: the drain has begun. Now finish the upload.
  upload.socket.write('67890');

  outcome.slow = await slow.catch((e: Error) => e.message);
  outcome.pipe = { closed: await pipe.closed, data: pipe.data };
  outcome.upload = { closed: await upload.closed, data: upload.data };
  outcome.stream = await stream;
  outcome.idle = { closed: await idle.closed };
  outcome.sse = sse;
  outcome.late = { closed: await late.closed, data: late.data };
  outcome.blocker = { closed: await blocker.closed, data: blocker.data };
  outcome.busy = busyResult;
  outcome.exitCode = await exit;
  outcome.exitedAt = Date.now();
  await busy.close();
}, 20_000);

afterAll(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
});

describe('standalone SDK app: SIGTERM drains every HTTP/1 connection, then exits 0', () => {
  it('a slow request in flight completes, with Connection: close', () => {
    const slow = outcome.slow as { status: number; body: string; headers: http.IncomingHttpHeaders };
    expect(slow.status).toBe(200);
    expect(slow.body).toMatch(/^slow 1500 \d+\n$/);
    expect(slow.headers.connection).toBe('close');
  });

  it('pipelined requests: all three answered, only the last one with Connection: close', () => {
    const { closed, data } = outcome.pipe as { closed: { error: string | null }; data: string };
    expect(closed.error).toBeNull();
    const heads = data.split('HTTP/1.1 ').slice(1);
    expect(heads).toHaveLength(3);
    for (const h of heads) expect(h.startsWith('200')).toBe(true);
    expect(heads.map((h) => /connection: (\S+)/i.exec(h)?.[1])).toEqual(['keep-alive', 'keep-alive', 'close']);
  });

  it('a request whose body was still uploading when the drain began is answered in full', () => {
    const { closed, data } = outcome.upload as { closed: { error: string | null }; data: string };
    expect(closed.error).toBeNull();
    expect(data).toMatch(/^HTTP\/1\.1 200/);
    expect(data).toMatch(/connection: close/i);
    expect(data).toMatch(/\r\n\r\n(?:[0-9a-f]+\r\n)?10\n/);
  });

  it('a streaming response (not an event stream) in flight sends every chunk', () => {
    const { events, error } = outcome.stream as { events: string[]; error: string | null };
    expect(error).toBeNull();
    expect(events).toEqual(Array.from({ length: 10 }, (_, i) => `data: ${i}`));
  });

  it('a server-sent event stream is ended cleanly when the drain starts (complete chunked body, then FIN)', async () => {
    const sse = outcome.sse as Raw;
    const closed = await sse.closed;
    expect(closed.error).toBeNull();
    // Whole events only, then the chunked body's terminator: the client's EventSource reconnects elsewhere.
    expect(sse.data).toMatch(
      /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\n(?:[0-9a-f]+\r\nid: \d+\ndata: \d+\n\n\r\n)+0\r\n\r\n$/,
    );
    expect(closed.at - sigtermAt).toBeLessThan(2_000);
  });

  it('keep-alive race: a busy client gets 503 from the readiness route with Connection: close, never a reset', () => {
    const { seen, errors } = outcome.busy as { seen: { status: number; connection?: string }[]; errors: string[] };
    expect(errors).toEqual([]);
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.at(-1)).toEqual({ status: 503, connection: 'close' });
    expect(seen.slice(0, -1).every((s) => s.status === 200 || s.status === 503)).toBe(true);
  });

  it('an idle keep-alive socket is closed (FIN, no reset) within the idle grace, not after keepAliveTimeout', () => {
    const { closed } = outcome.idle as { closed: { at: number; error: string | null } };
    expect(closed.error).toBeNull();
    expect(closed.at - sigtermAt).toBeLessThan(2_500);
  });

  it('a request that reached a socket while the process was too busy to read it is answered, not closed under', () => {
    for (const key of ['late', 'blocker']) {
      const { closed, data } = outcome[key] as { closed: { error: string | null }; data: string };
      expect(closed.error).toBeNull();
      expect(data).toMatch(/^HTTP\/1\.1 200/);
      expect(data).toMatch(/connection: close/i);
    }
  });

  it('exits 0 the slowest request is done, and reports the drain', () => {
    expect(outcome.exitCode).toBe(0);
    expect(stderr).toMatch(/\[supervise\] drained on signal in \d+ ms: \d+ requests completed/);
    expect(stderr).not.toMatch(/forced/);
  });
});
