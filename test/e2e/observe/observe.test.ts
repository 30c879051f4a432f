/**
 * Seeing a running cluster (issue 18): `supervise top` in a real terminal (tmux), and `supervise logs` with the
 * master's stdout going to /dev/null.
 */
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { get, until } from '../../helpers/http.js';
import { CLI, fixture, freePort, killAll, runCli, supervise, tempDir, trackPid } from '../../helpers/supervise.js';

afterEach(() => killAll());

function sh(file: string, args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 10_000 }, (err, stdout) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout }),
    );
  });
}

describe('supervise top', () => {
  it('shows every worker in a real terminal, refreshes, and quits on q', async (ctx) => {
    if ((await sh('tmux', ['-V'])).code !== 0) {
      console.warn('tmux is not installed (apt-get install tmux): supervise top is not driven in a terminal');
      ctx.skip();
    }
    const port = await freePort();
    const s = supervise([fixture('observe/chatty-app.js'), '-w', '3', '--heartbeat', '200'], {
      env: { PORT: String(port) },
    });
    await s.ready();
    const sock = (await s.waitEvent('control.listening')).path as string;
    const server = `supervise-top-${process.pid}`;
    const tmux = (...args: string[]) => sh('tmux', ['-L', server, ...args]);
    try {
      const started = await tmux(
        'new-session',
        '-d',
        '-s',
        'top',
        '-x',
        '160',
        '-y',
        '30',
        `${process.execPath} ${CLI} top --control ${sock} --interval 300`,
      );
      expect(started.code).toBe(0);
      const pane = async () => (await tmux('capture-pane', '-p', '-t', 'top')).stdout;
      const pids = s.servingPids();
      const first = await until(
        async () => {
          const text = await pane();
          return pids.every((p) => text.includes(String(p))) && /CPU%/.test(text) && /\d+\.\d +\d+(\.\d)? MB/.test(text)
            ? text
            : null;
        },
        10_000,
        'top to show every worker with its load',
      );
      expect(first).toMatch(/3\/3 ready, generation 1/);
      expect(first).toMatch(/SLOT +PID +STATE +GEN +UPTIME +CPU% +RSS +HEAP +REQ\/S +IN-FLIGHT +LOOP +LAG/);
      // It refreshes: traffic shows up as a request rate.
      const traffic = setInterval(() => void get(port).catch(() => {}), 5);
      try {
        await until(
          async () => /ready +1 +\S+ +\S+ +\S+ +\S+ +[1-9][\d.]* /.test(await pane()),
          10_000,
          'a request rate above 0',
        );
      } finally {
        clearInterval(traffic);
      }
      await tmux('send-keys', '-t', 'top', 'q');
      await until(async () => (await tmux('has-session', '-t', 'top')).code !== 0, 5000, 'top to quit on q');
    } finally {
      await tmux('kill-server');
    }
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
  });

  it('without a terminal prints one screen and exits', async () => {
    const port = await freePort();
    const s = supervise([fixture('observe/chatty-app.js'), '-w', '2'], { env: { PORT: String(port) } });
    await s.ready();
    const sock = (await s.waitEvent('control.listening')).path as string;
    const run = await runCli(['top', '--control', sock]);
    expect(run.code).toBe(0);
    for (const pid of s.servingPids()) expect(run.stdout).toContain(String(pid));
    expect(run.stdout).toMatch(/2\/2 ready/);
  });
});

describe('supervise logs', () => {
  it("-n 20 and -f show the workers' lines while the master's stdout goes to /dev/null", async () => {
    const port = await freePort();
    const sock = path.join(tempDir(), 'master.sock');
    const master = spawn(process.execPath, [CLI, fixture('observe/chatty-app.js'), '-w', '2', '--control', sock], {
      env: { ...process.env, PORT: String(port) },
      stdio: 'ignore',
    });
    trackPid(master.pid);
    await until(
      async () => (await runCli(['status', '--control', sock])).stdout.includes('2/2 ready'),
      15_000,
      'the master to be ready',
    );
    for (let i = 0; i < 5; i++) expect((await get(port)).status).toBe(200);

    const tail = await until(
      async () => {
        const run = await runCli(['logs', '-n', '20', '--control', sock]);
        return (run.stdout.match(/served request/g) ?? []).length >= 5 ? run : null;
      },
      5000,
      'the five request lines in the buffer',
    );
    expect(tail.code).toBe(0);
    const lines = tail.stdout.trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(20);
    expect(tail.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} \[\d:\d+\] served request \d+ in \d+$/m);
    expect(tail.stdout).toMatch(/master info: all 2 workers are ready/);

    const follower = spawn(process.execPath, [CLI, 'logs', '-f', '-n', '0', '--control', sock], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackPid(follower.pid);
    let followed = '';
    follower.stdout.setEncoding('utf8').on('data', (c: string) => (followed += c));
    // The follower is attached once a line logged after it started reaches it: one request per poll until one does
    // (the master's own `control: logs` line cannot tell: a command that checks for it logs one too).
    await until(
      async () => {
        if (/served request/.test(followed)) return true;
        await get(port);
        return false;
      },
      10_000,
      'the followed line',
    );
    // -n 0: only what came after, none of the lines the buffer held before.
    const before = new Set(tail.stdout.match(/served request \d+ in \d+/g));
    const seen = followed.match(/served request \d+ in \d+/g) ?? [];
    expect(seen.length).toBeGreaterThan(0);
    for (const line of seen) expect(before.has(line)).toBe(false);
    follower.kill('SIGINT');
    expect((await runCli(['stop', '--control', sock])).code).toBe(0);
  });
});
