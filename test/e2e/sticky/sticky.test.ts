/**
 * --sticky (issue 16): the master accepts on the app's port and hands every connection of a client to one
 * worker slot. Unmodified socket.io 4 with its default transports (long polling first, then the WebSocket
 * upgrade), socket.io's cluster adapter broadcasting across 4 workers, in-memory Express sessions, and the
 * lossless promise under keep-alive load through 2 rollouts and a scale-down.
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';

import { Pool } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';

import { cannon, get, load, until } from '../../helpers/http.js';
import {
  example,
  fixture,
  freePort,
  killAll,
  runCli,
  type Supervised,
  supervise,
  tempDir,
  waitGone,
} from '../../helpers/supervise.js';

afterEach(() => killAll());

const { io } = createRequire(import.meta.url)('socket.io-client') as typeof import('socket.io-client');
type Client = ReturnType<typeof io>;

async function start(app: string, workers: number, extra: string[] = ['--sticky']) {
  const port = await freePort();
  const s = supervise([example(app), '-w', String(workers), ...extra], { env: { PORT: String(port) } });
  await s.ready();
  return { s, port };
}

/** A socket.io client with the library's default transports, connecting from one loopback address. */
function client(port: number, from: string): { c: Client; connectErrors: string[]; upgraded: Promise<void> } {
  const agent = new http.Agent({ localAddress: from });
  const c = io(`http://127.0.0.1:${port}`, {
    agent,
    localAddress: from,
    reconnectionDelay: 50,
    reconnectionDelayMax: 200,
  } as never);
  const connectErrors: string[] = [];
  c.on('connect_error', (err) => connectErrors.push(err.message));
  const upgraded = new Promise<void>((resolve) => {
    const watch = () => c.io.engine.once('upgrade', () => resolve());
    c.io.on('open', watch);
  });
  return { c, connectErrors, upgraded };
}

const whoami = (c: Client) => c.timeout(2000).emitWithAck('whoami') as Promise<number>;
const addresses = (n: number) => Array.from({ length: n }, (_, i) => `127.0.0.${i + 2}`);
const serving = (s: Supervised) => new Set(s.servingPids());

describe('--sticky', () => {
  it('socket.io with default transports under -w 4: every client connects and upgrades; a SIGHUP moves each one, and acks resume', async () => {
    const { s, port } = await start('socketio/server.js', 4);
    expect((await s.waitEvent('master.ready')).accept).toBe('sticky');
    const clients = addresses(10).map((from) => client(port, from));
    await Promise.all(clients.map((k) => k.upgraded));
    const old = serving(s);
    const before = await Promise.all(clients.map((k) => whoami(k.c)));
    for (const pid of before) expect(old.has(pid)).toBe(true);
    expect(clients.every((k) => k.c.io.engine.transport.name === 'websocket')).toBe(true);
    // Ten addresses reach more than one worker: stickiness is per client, not one worker for everyone.
    expect(new Set(before).size).toBeGreaterThan(1);

    const hup = s.lines.length;
    s.signal('SIGHUP');
    await s.waitEvent('rollout.end', (l) => l.outcome === 'done', 20_000, hup);
    const moved = async (c: Client) => {
      const end = Date.now() + 5000;
      for (;;) {
        const pid = await whoami(c).catch(() => 0);
        if (pid && !old.has(pid)) return pid;
        if (Date.now() > end) throw new Error('a socket.io client did not reach a new worker within 5 s');
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const after = await Promise.all(clients.map((k) => moved(k.c)));
    expect(after.every((pid) => serving(s).has(pid))).toBe(true);
    // Long polling again after each reconnect, several requests per session: none was refused.
    expect(clients.flatMap((k) => k.connectErrors)).toEqual([]);
    for (const k of clients) k.c.close();
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
  });

  it('without --sticky the same clients fail (the control: long polling spans workers)', async () => {
    const { s, port } = await start('socketio/server.js', 4, []);
    const clients = addresses(5).map((from) => client(port, from));
    await until(() => clients.some((k) => k.connectErrors.length > 0), 5000, 'a connection error');
    for (const k of clients) k.c.close();
    // No graceful stop here: a long-polling GET of a broken session stays open until socket.io's next ping
    // (25 s), and the drain waits for it. killAll() ends the master and its workers.
    expect(s.servingPids()).toHaveLength(4);
  });

  it('@socket.io/cluster-adapter: a message (and, with --ipc-serialization advanced, binary) emitted on one worker reaches the clients of all 4', async () => {
    const { s, port } = await start('socketio-cluster/server.js', 4, ['--sticky', '--ipc-serialization', 'advanced']);
    const clients = addresses(24).map((from) => client(port, from));
    await Promise.all(clients.map((k) => k.upgraded));
    const pids = await Promise.all(clients.map((k) => whoami(k.c)));
    expect(new Set(pids)).toEqual(serving(s));
    expect(new Set(pids).size).toBe(4);
    const news = clients.map(
      (k) => new Promise<{ text: string; from: number }>((resolve) => k.c.once('news', resolve)),
    );
    clients[0]!.c.emit('shout', 'to everyone');
    const got = await Promise.race([
      Promise.all(news),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('a client got no broadcast within 3 s')), 3000),
      ),
    ]);
    for (const n of got) expect(n).toEqual({ text: 'to everyone', from: pids[0] });
    const bytes = clients.map((k) => new Promise<Buffer | ArrayBuffer>((resolve) => k.c.once('news-binary', resolve)));
    clients[5]!.c.emit('shout-binary', 'raw bytes');
    const binary = await Promise.race([
      Promise.all(bytes),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('a client got no binary broadcast within 3 s')), 3000),
      ),
    ]);
    // Bytes, not their JSON picture ({ type: 'Buffer', data: [...] }), on every client, whichever worker it is on.
    for (const b of binary) {
      expect(Buffer.isBuffer(b) || b instanceof ArrayBuffer).toBe(true);
      expect((Buffer.isBuffer(b) ? b : Buffer.from(b)).toString()).toBe('raw bytes');
    }
    for (const k of clients) k.c.close();
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
  });

  it('express-session (MemoryStore): a session survives 20 requests on 20 new connections', async () => {
    const { s, port } = await start('express-session/server.js', 4);
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 1 });
    let cookie: string | undefined;
    const seen: string[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const res = await pool.request({
          path: '/count',
          method: 'GET',
          headers: cookie ? { cookie } : {},
          reset: true,
        });
        cookie ??= String(res.headers['set-cookie']).split(';')[0];
        seen.push((await res.body.text()).trim());
      }
    } finally {
      await pool.close();
    }
    const views = seen.map((line) => Number(line.split(' ')[0]));
    expect(views).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(new Set(seen.map((line) => line.split(' ')[1])).size).toBe(1);
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
  });

  it('2 rollouts of 4 workers, then a scale to 2, under undici and autocannon keep-alive load: 0 failed', async () => {
    const { s, port } = await start('http-basic/server.js', 4);
    const sock = (await s.waitEvent('control.listening')).path as string;
    expect((await runCli(['status', '--control', sock])).stdout).toMatch(/connections: sticky\n/);
    // Clients from several addresses, so that several slots carry load (autocannon's come from 127.0.0.1).
    const keepAlive = addresses(4).map((from) => load(port, { connections: 5, maxMs: 40_000, from }));
    const perConnection = addresses(8)
      .slice(4)
      .map((from) => load(port, { connections: 3, reset: true, maxMs: 40_000, from }));
    const loads = [...keepAlive, ...perConnection];
    const ok = () => loads.reduce((n, l) => n + l.result.ok, 0);
    const ac = cannon(port, { connections: 20 });
    await until(() => loads.every((l) => l.result.ok > 50) && ac.responses() > 200, 10_000, 'the loads to warm up');
    const old = s.forkedPids();
    const firstPids = new Set(loads.flatMap((l) => [...l.result.pids]));
    expect(firstPids.size).toBeGreaterThan(1);
    // The second rollout rolls workers that were themselves started by a rollout.
    for (let round = 1; round <= 2; round++) {
      const mark = s.lines.length;
      s.signal('SIGHUP');
      expect(await s.waitEvent('rollout.end', undefined, 20_000, mark)).toMatchObject({ outcome: 'done', replaced: 4 });
    }
    await waitGone(old, 15_000);
    expect((await runCli(['scale', '2', '--control', sock])).code).toBe(0);
    await until(() => s.servingPids().length === 2, 10_000, 'two workers serving');
    const after = ok();
    await until(() => ok() > after + 200, 10_000, 'load on the last workers');
    const results = await Promise.all(loads.map((l) => l.stop()));
    const a = await ac.stop();
    for (const r of results) {
      expect(r.errors).toEqual([]);
      expect(r.failed).toBe(0);
    }
    expect({ errors: a.errors, timeouts: a.timeouts, non2xx: a.non2xx }).toEqual({ errors: 0, timeouts: 0, non2xx: 0 });
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
  });

  it('--trust-proxy routes by the first X-Forwarded-For hop, and the request arrives whole', async () => {
    const { s, port } = await start('http-basic/server.js', 4, ['--sticky', '--trust-proxy']);
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 4 });
    const pidOf = async (client: string) => {
      const res = await pool.request({
        path: '/',
        method: 'GET',
        headers: { 'x-forwarded-for': `${client}, 10.9.9.9` },
        reset: true,
      });
      expect(res.statusCode).toBe(200);
      return Number((await res.body.text()).trim());
    };
    try {
      const byClient = new Map<string, Set<number>>();
      for (let i = 1; i <= 16; i++) {
        const client = `203.0.113.${i}`;
        const pids = new Set<number>();
        for (let k = 0; k < 3; k++) pids.add(await pidOf(client));
        byClient.set(client, pids);
      }
      // Each client always on one worker; the clients spread over several.
      for (const pids of byClient.values()) expect(pids.size).toBe(1);
      expect(new Set([...byClient.values()].map((p) => [...p][0])).size).toBeGreaterThan(1);
    } finally {
      await pool.close();
    }
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
  });

  it('a release that cannot start rolls back: the old workers keep serving on the port, /health stays 200', async () => {
    const [port, health] = [await freePort(), await freePort()];
    const s = supervise([fixture('faults/bad-release.js'), '-w', '2', '--sticky', '--health-port', String(health)], {
      env: { PORT: String(port) },
    });
    await s.ready();
    const old = s.servingPids().sort();
    const traffic = load(port, { connections: 4, reset: true, maxMs: 20_000, from: '127.0.0.9' });
    await until(() => traffic.result.ok > 50, 10_000, 'the load to warm up');
    const hup = s.lines.length;
    s.signal('SIGHUP');
    expect(await s.waitEvent('rollout.end', undefined, 20_000, hup)).toMatchObject({
      outcome: 'rolled-back',
      replaced: 0,
    });
    const after = traffic.result.ok;
    await until(() => traffic.result.ok > after + 50, 10_000, 'load after the rollback');
    const r = await traffic.stop();
    expect(r.errors).toEqual([]);
    expect(r.failed).toBe(0);
    expect(s.servingPids().sort()).toEqual(old);
    expect((await fetch(`http://127.0.0.1:${health}/health`)).status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${health}/metrics`)).text();
    const value = (name: string) =>
      Number(/^(\S+) (\S+)$/m.exec(metrics.split('\n').find((l) => l.startsWith(`${name} `)) ?? '')?.[2]);
    expect(value('supervise_sticky_handovers_total')).toBeGreaterThanOrEqual(r.ok);
    expect(value('supervise_sticky_dropped_total')).toBe(0);
    expect(value('supervise_sticky_waiting_connections')).toBe(0);
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
  });

  it('-w 1: connections that arrive while the only worker is restarted after a crash wait in the master, and are served', async () => {
    const port = await freePort();
    const s = supervise([fixture('faults/fault-app.js'), '-w', '1', '--sticky', '--restart-delay', '300'], {
      env: { PORT: String(port) },
    });
    await s.ready();
    const [first] = s.servingPids();
    expect((await get(port, '/crash')).status).toBe(200);
    await s.waitEvent('worker.crash', undefined, 5000);
    // No worker serves now: these wait for the restart instead of being refused.
    const answers = await Promise.all(Array.from({ length: 5 }, () => get(port)));
    for (const a of answers) expect(a.status).toBe(200);
    const pids = new Set(answers.map((a) => Number(a.body.trim())));
    expect(pids.size).toBe(1);
    expect(pids.has(first!)).toBe(false);
  });

  it('an SDK app that says ready() before it listens: connections handed to it in between wait for its server', async () => {
    const port = await freePort();
    const s = supervise([fixture('sticky/ready-early-app.js'), '-w', '2', '--sticky'], {
      env: { PORT: String(port), LISTEN_DELAY_MS: '300' },
    });
    await s.ready();
    const pids = new Set(s.servingPids());
    const hup = s.lines.length;
    s.signal('SIGHUP');
    // Each replacement is ready (and takes its slot's clients) 300 ms before it listens.
    const during = load(port, { connections: 4, reset: true, maxMs: 15_000, from: '127.0.0.7' });
    await s.waitEvent('rollout.end', (l) => l.outcome === 'done', 20_000, hup);
    const settled = during.result.ok;
    await until(() => during.result.ok > settled + 20, 10_000, 'load on the new workers');
    const r = await during.stop();
    expect(r.errors).toEqual([]);
    expect(r.failed).toBe(0);
    expect([...r.pids].some((p) => !pids.has(p))).toBe(true);
    expect(s.events('sticky.dropped')).toEqual([]);
  });

  it('a connection that waits longer than the early wait for a worker that listens late keeps every byte', async () => {
    const port = await freePort();
    const delayFile = path.join(tempDir(), 'delay');
    const s = supervise([fixture('sticky/ready-early-app.js'), '-w', '1', '--sticky'], {
      env: { PORT: String(port), LISTEN_DELAY_MS: '0', LISTEN_DELAY_FILE: delayFile },
    });
    await s.ready();
    const [old] = s.servingPids();
    // The replacement says ready() 2.5 s before it listens: longer than a worker holds an early connection
    // (2 s), so the connection is turned away once, with the request it read meanwhile, and handed again.
    writeFileSync(delayFile, '2500');
    const hup = s.lines.length;
    s.signal('SIGHUP');
    const ready = await s.waitEvent('worker.state', (l) => l.to === 'ready' && l.pid !== old, 15_000, hup);
    const answer = await get(port, '/', 10_000);
    expect(answer.status).toBe(200);
    expect(Number(answer.body.trim())).toBe(ready.pid);
    expect(s.events('sticky.dropped')).toEqual([]);
  });

  it('usage errors: no PORT, --trust-proxy alone, an app that ignores PORT', async () => {
    // Four independent masters, run at once: the last one can only tell after the wait for a listen report.
    const [port, elsewherePort, appPort] = [await freePort(), await freePort(), await freePort()];
    const [noPort, alone, ignores, elsewhere] = await Promise.all([
      runCli([example('http-basic/server.js'), '--sticky'], { env: { PORT: '' } }),
      runCli([example('http-basic/server.js'), '--trust-proxy'], { env: { PORT: '3000' } }),
      runCli([fixture('sticky/fixed-port-app.js'), '-w', '1', '--sticky'], {
        env: { PORT: String(port), APP_FIXED_PORT: String(port) },
      }),
      runCli([fixture('sticky/fixed-port-app.js'), '-w', '1', '--sticky'], {
        env: { PORT: String(elsewherePort), APP_FIXED_PORT: String(appPort) },
      }),
    ]);
    expect(noPort.code).toBe(2);
    expect(noPort.stderr).toMatch(/^supervise: --sticky needs the app's port in PORT/);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/^supervise: --trust-proxy only applies with --sticky/);
    expect(ignores.code).toBe(2);
    expect(ignores.stderr).toContain(
      `supervise: --sticky: the app listens on port ${port} itself; it must listen on process.env.PORT`,
    );
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toMatch(/supervise: --sticky: the app did not listen on the port in process\.env\.PORT/);
  });
});
