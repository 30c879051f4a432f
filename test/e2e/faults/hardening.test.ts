/**
 * Nothing a user can send or do kills the master (issue 17): hostile control requests, a flood of idle control
 * connections, a stdout whose reader went away.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { load, pidsAnswering, until, untilAnswering } from '../../helpers/http.js';
import {
  CLI,
  example,
  fixture,
  freePort,
  isAlive,
  killAll,
  supervise,
  tempDir,
  trackPid,
} from '../../helpers/supervise.js';

afterEach(() => killAll());

/** Writes `bytes` on a fresh control connection; resolves with everything the master answered before closing. */
function send(sock: string, bytes: string | Buffer, { end = false } = {}): Promise<string> {
  return new Promise((resolve) => {
    const c = net.connect(sock);
    let data = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => (data += d));
    c.on('error', () => {});
    c.on('close', () => resolve(data));
    c.once('connect', () => (end ? c.end(bytes) : c.write(bytes)));
    setTimeout(() => c.destroy(), 8_000).unref();
  });
}

const MALFORMED: (string | Buffer)[] = [
  'null',
  '1',
  'true',
  '"status"',
  '[]',
  '[{"cmd":"status"}]',
  '{}',
  '{"cmd":1}',
  '{"cmd":null}',
  '{"cmd":["status"]}',
  '{"cmd":"nope"}',
  '{"cmd":"toString"}',
  '{"cmd":"__proto__"}',
  '{"cmd":"constructor"}',
  '{"cmd":"status","__proto__":{"cmd":"stop"}}',
  '{"constructor":{"prototype":{"x":1}},"cmd":"status"}',
  '{"cmd":"scale"}',
  '{"cmd":"scale","target":[1]}',
  '{"cmd":"scale","target":{"n":1}}',
  '{"cmd":"scale","target":"abc"}',
  '{"cmd":"scale","target":"99999"}',
  '{"cmd":"scale","target":"-9"}',
  '{"cmd":"scale","target":null}',
  '{"cmd":"reload","waitDrained":"yes"}',
  '{"cmd":"stop","force":true}',
  `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
  `{"cmd":"status","x":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}`,
  '\ufeff{"cmd":"status"}',
  Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x7b, 0x22]),
  '{"cmd":"status"',
  'NaN',
];

describe('hardening: the control socket', () => {
  it('hostile requests, 300 idle connections and 100 concurrent statuses: the master stays up, its workers answer, every framed request gets an error line, and a stop exits 0', async () => {
    const port = await freePort();
    const sock = path.join(tempDir('supervise-hard-'), 'ctl.sock');
    const s = supervise([example('http-basic/server.js'), '-w', '2', '--control', sock], {
      env: { PORT: String(port) },
    });
    await s.ready();
    const workers = new Set(s.servingPids());
    const traffic = load(port, { connections: 4, maxMs: 60_000 });

    // Every malformed line, newline-terminated, gets exactly one error line, then the connection closes.
    const answers = await Promise.all(
      MALFORMED.map((m) => send(sock, Buffer.concat([Buffer.from(m), Buffer.from('\n')]))),
    );
    for (const [i, a] of answers.entries()) {
      const lines = a.split('\n').filter(Boolean);
      expect(lines, `request ${i}: ${String(MALFORMED[i]).slice(0, 60)}`).toHaveLength(1);
      const body = JSON.parse(lines[0]!) as { ok: boolean; error: string };
      expect(body.ok, `request ${i}`).toBe(false);
      expect(body.error).toMatch(/\S/);
    }
    expect(answers.length).toBeGreaterThanOrEqual(25);

    // Half lines (then the client leaves), and a line that never ends.
    await Promise.all(['{"cmd":"sta', '{', '\x00\x01'].map((h) => send(sock, h, { end: true })));
    const oversized = await send(sock, 'x'.repeat(70 * 1024));
    expect(JSON.parse(oversized.trim())).toMatchObject({ ok: false, error: expect.stringMatching(/longer than/) });

    // 300 connections that never send anything, then 100 statuses at once: the idle ones make room.
    const idle = Array.from({ length: 300 }, () => {
      const c = net.connect(sock);
      c.on('error', () => {});
      return c;
    });
    await until(() => idle.every((c) => !c.connecting), 5_000, 'the idle connections to open');
    const statuses = await Promise.all(Array.from({ length: 100 }, () => send(sock, '{"cmd":"status"}\n')));
    for (const st of statuses)
      expect(JSON.parse(st.trim())).toMatchObject({ ok: true, master: { pid: s.pid, workers: 2 } });
    for (const c of idle) c.destroy();

    expect(isAlive(s.pid)).toBe(true);
    expect(await untilAnswering(port, workers.size)).toEqual(workers);
    const result = await traffic.stop();
    expect(result.failed).toBe(0);
    expect(s.events('worker.fork')).toHaveLength(2); // nothing scaled, nothing restarted
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
    expect(s.stderr).not.toMatch(/\n\s+at /);
    expect(s.stdout).not.toMatch(/\n\s+at /);
  });
});

describe('hardening: lost outputs', () => {
  it("the master's stdout reader dies: the master keeps serving, says so once on stderr, rolls on SIGHUP and exits 0 on SIGTERM", async () => {
    const port = await freePort();
    // This app prints a line on stdout as each worker listens: the new workers' lines meet the closed pipe too.
    const child = spawn(process.execPath, [CLI, fixture('drain/sdk-http.js'), '-w', '2', '--log-format', 'json'], {
      env: { ...process.env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackPid(child.pid);
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Read until the master says it is ready, then go away as a log shipper that restarts does.
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (c: string) => {
        out += c;
        if (out.includes('"event":"master.ready"')) resolve();
      });
      setTimeout(() => reject(new Error(`not ready: ${out.slice(-500)}`)), 15_000).unref();
    });
    child.stdout!.destroy();
    const before = await untilAnswering(port, 2);
    expect(before.size).toBe(2);
    // Every line the master and its workers log now meets a closed pipe (EPIPE).
    child.kill('SIGHUP');
    await until(
      async () => {
        const now = await pidsAnswering(port, 10);
        return now.size === 2 && [...now].every((p) => !before.has(p));
      },
      15_000,
      'new workers after the SIGHUP',
    );
    expect(child.exitCode).toBeNull();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const said = stderr.split('\n').filter((l) => /stdout/.test(l));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^supervise: stdout is gone \(EPIPE\); its output is dropped from now on$/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
