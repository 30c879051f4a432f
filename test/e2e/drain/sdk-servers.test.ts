/**
 * Several servers in one SDK process (examples/servers): http, https, HTTP/2 over TLS, h2c and a raw `net`
 * line protocol. One SIGTERM drains them all: HTTP/2 clients get GOAWAY and their open streams finish, the
 * https request finishes with Connection: close, the net clients get the app's goodbye from its onDrain hook.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { get, until } from '../../helpers/http.js';
import { example, freePort } from '../../helpers/supervise.js';
import { h2Get } from '../../helpers/h2.js';

let child: ChildProcess;
let stdout = '';
let stderr = '';
const outcome: Record<string, unknown> = {};

function h2Slow(url: string, ms: number) {
  const session = http2.connect(url, { rejectUnauthorized: false });
  let goaway = false;
  session.on('goaway', () => (goaway = true));
  session.on('error', () => {});
  const done = h2Get(session, `/slow?ms=${ms}`).then(({ status, body, error }) => ({
    status,
    body,
    goaway,
    error: error ?? null,
  }));
  const closed = new Promise<void>((resolve) => session.on('close', () => resolve()));
  return { done, closed };
}

function httpsSlow(port: number, ms: number) {
  return new Promise<{ status: number; body: string; connection?: string }>((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, path: `/slow?ms=${ms}`, rejectUnauthorized: false, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }));
      })
      .on('error', reject);
  });
}

beforeAll(async () => {
  const [port, httpsPort, h2Port, h2cPort, netPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  child = spawn(process.execPath, [example('servers/server.js')], {
    env: {
      ...process.env,
      PORT: String(port),
      HTTPS_PORT: String(httpsPort),
      H2_PORT: String(h2Port),
      H2C_PORT: String(h2cPort),
      NET_PORT: String(netPort),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await until(() => stdout.includes('servers ready (5)'), 10_000, 'the servers');

  const plain = get(port, '/slow?ms=1100');
  const secure = httpsSlow(httpsPort, 1200);
  const h2 = h2Slow(`https://127.0.0.1:${h2Port}`, 1300);
  const h2c = h2Slow(`http://127.0.0.1:${h2cPort}`, 1400);
  const line = net.connect(netPort, '127.0.0.1');
  let lineData = '';
  line.setEncoding('utf8').on('data', (c: string) => (lineData += c));
  const lineClosed = new Promise<string | null>((resolve) => {
    let error: string | null = null;
    line.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    line.on('close', () => resolve(error));
  });
  for (const ms of [1100, 1200, 1300, 1400])
    await until(() => stdout.includes(`slow ${ms} started`), 5_000, `slow ${ms}`);
  await until(() => lineData.startsWith('hello'), 5_000, 'the net greeting');

  const t0 = Date.now();
  child.kill('SIGTERM');
  outcome.plain = await plain;
  outcome.https = await secure;
  outcome.h2 = await h2.done;
  outcome.h2c = await h2c.done;
  await Promise.all([h2.closed, h2c.closed]);
  outcome.net = { error: await lineClosed, data: lineData };
  outcome.code = await exit;
  outcome.durationMs = Date.now() - t0;
}, 20_000);

afterAll(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
});

describe('one SDK process, five servers, one drain', () => {
  it('http and https: the slow requests complete, with Connection: close', () => {
    const plain = outcome.plain as { status: number; body: string; headers: { connection?: string } };
    expect(plain.status).toBe(200);
    expect(plain.body).toMatch(/^slow 1100/);
    expect(plain.headers.connection).toBe('close');
    expect(outcome.https).toMatchObject({ status: 200, connection: 'close' });
    expect((outcome.https as { body: string }).body).toMatch(/^slow 1200/);
  });

  it('HTTP/2 over TLS: the client gets GOAWAY and its open stream finishes', () => {
    expect(outcome.h2).toMatchObject({ status: 200, goaway: true, error: null });
    expect((outcome.h2 as { body: string }).body).toMatch(/^slow 1300/);
  });

  it('HTTP/2 cleartext (h2c): the client gets GOAWAY and its open stream finishes', () => {
    expect(outcome.h2c).toMatchObject({ status: 200, goaway: true, error: null });
    expect((outcome.h2c as { body: string }).body).toMatch(/^slow 1400/);
  });

  it('net: the onDrain hook says goodbye and closes the connection cleanly', () => {
    expect(outcome.net).toMatchObject({ error: null });
    expect((outcome.net as { data: string }).data).toMatch(/^hello \d+\nbye\n$/);
  });

  it('exits 0 with nothing forced, as soon as the slowest stream is done', () => {
    expect(outcome.code).toBe(0);
    expect(stderr).not.toMatch(/forced/);
    expect(outcome.durationMs).toBeLessThan(4_000);
  });
});
