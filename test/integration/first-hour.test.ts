/**
 * What a new user looks for first (part of issue 19): the readable ready line says where the app is and which
 * pid to signal, one sentence per line; each worker knows its instance number; scale takes `max` and says
 * what is wrong once.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { get, until } from '../helpers/http.js';
import { CLI, example, fixture, freePort, killAll, runCli, supervise, tempDir, trackPid } from '../helpers/supervise.js';

afterEach(() => killAll());

describe('the first hour', () => {
  it('the readable log: the ready line names the address and the master pid, and no line carries a JSON tail', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, example('http-basic/server.js'), '-w', '2', '--log-format', 'pretty'], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackPid(child.pid);
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
    await until(() => /ready in \d+ ms/.test(out), 15_000, 'the ready line');
    const ready = out.split('\n').find((l) => /ready in \d+ ms/.test(l))!;
    expect(ready).toMatch(new RegExp(`INFO: all 2 workers are ready in \\d+ ms: http://127\\.0\\.0\\.1:${port} \\(master pid ${child.pid}, connections: round-robin\\)$`));
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const lines = out.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(5);
    for (const l of lines) expect(l).not.toMatch(/\{".*":/);
    expect(out).toMatch(/stopping: draining 2 workers/);
    expect(out).not.toMatch(/\b1 (requests|connections|workers)\b/);
  });

  it('every worker gets NODE_APP_INSTANCE equal to its slot, beside SUPERVISE_SLOT and SUPERVISE_GENERATION', async () => {
    const port = await freePort();
    const s = supervise([fixture('env-app.js'), '-w', '3'], { env: { PORT: String(port) } });
    await s.ready();
    const seen = new Map<number, Record<string, string>>();
    await until(async () => {
      const body = JSON.parse((await get(port, '/')).body) as Record<string, string> & { pid: number };
      seen.set(body.pid, body);
      return seen.size === 3;
    }, 10_000, 'all three workers to answer');
    for (const fork of s.events('worker.fork')) {
      const env = seen.get(fork.pid as number)!;
      expect(env).toMatchObject({ SUPERVISE_SLOT: String(fork.slot), NODE_APP_INSTANCE: String(fork.slot), SUPERVISE_GENERATION: '1' });
    }
  });

  it('scale: `max` works as -w max does; a count that leaves no worker says so once, exit 2', async () => {
    const port = await freePort();
    const sock = path.join(tempDir('supervise-hour-'), 'ctl.sock');
    const s = supervise([example('http-basic/server.js'), '-w', '1', '--control', sock], { env: { PORT: String(port) } });
    await s.ready();
    const zero = await runCli(['scale', '0', '--control', sock]);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toBe('supervise: scale: 0 would leave 0 workers; at least 1 must run\n');
    const max = await runCli(['scale', 'max', '--control', sock]);
    expect(max.code).toBe(0);
    expect(max.stdout).toBe(`scaled from 1 to ${os.availableParallelism()} workers\n`);
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
  });
});
