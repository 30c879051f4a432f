import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { load, until } from '../../helpers/http.js';
import {
  CLI,
  type CliRun,
  example,
  fixture,
  freePort,
  killAll,
  runCli,
  supervise,
  waitGone,
} from '../../helpers/supervise.js';

afterEach(() => killAll());

const tmp = mkdtempSync(path.join(os.tmpdir(), 'supervise-control-'));
// Open to everyone, so that only the socket's own mode keeps another user out.
chmodSync(tmp, 0o755);
/** Run as root with runuser at hand, the test also tries the socket as user nobody. */
const asNobody = process.getuid?.() === 0 && existsSync('/usr/sbin/runuser');
/**
 * Whether nobody can run the CLI from this checkout: not when it sits in a directory only root can enter (a
 * `mktemp -d` clone). The socket's mode is then checked with a plain connect as nobody instead.
 */
const nobodyRunsCli =
  asNobody &&
  spawnSync('/usr/sbin/runuser', [
    '-u',
    'nobody',
    '--',
    process.execPath,
    '-e',
    'require("fs").accessSync(process.argv[1], 4)',
    CLI,
  ]).status === 0;
if (asNobody && !nobodyRunsCli) {
  console.warn(
    `control test: user nobody cannot read ${CLI} (a private checkout): the socket is tried with a plain connect as nobody`,
  );
}

/** As user nobody, a plain connect to the socket: what the kernel answers (EACCES when the mode refuses). */
function connectAsNobody(sock: string): Promise<string> {
  const probe =
    'require("net").connect(process.argv[1]).on("connect", () => { console.log("connected"); process.exit(0); }).on("error", (e) => { console.log(e.code); process.exit(0); })';
  return new Promise((resolve) => {
    const child = spawn('/usr/sbin/runuser', ['-u', 'nobody', '--', process.execPath, '-e', probe, sock], {
      cwd: '/',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.on('exit', () => resolve(out.trim()));
  });
}
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Run = CliRun;

/** Runs a client command without blocking this process (the load keeps running meanwhile). */
const ctl = (args: string[], opts: { cwd?: string; env?: Record<string, string>; user?: string } = {}): Promise<Run> =>
  runCli(args, { cwd: tmp, ...opts });

function expectOneLine(r: Run, code: number, pattern: RegExp): void {
  expect(r.code).toBe(code);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^supervise: /);
  expect(lines[0]).toMatch(pattern);
}

describe('control socket', () => {
  it('status, scale up and down under load, reload and stop; 0600 socket, pid file, systemd notifications', async () => {
    const port = await freePort();
    const sock = path.join(tmp, 'ctl.sock');
    const pidFile = path.join(tmp, 'master.pid');
    // A stand-in for systemd-notify that records its arguments.
    const bin = path.join(tmp, 'bin');
    mkdirSync(bin, { recursive: true });
    const notifyLog = path.join(tmp, 'notify.log');
    writeFileSync(path.join(bin, 'systemd-notify'), `#!/bin/sh\necho "$@" >> "${notifyLog}"\n`);
    chmodSync(path.join(bin, 'systemd-notify'), 0o755);

    const s = supervise([example('http-sdk/server.js'), '-w', '2', '--control', sock, '--pid-file', pidFile], {
      env: { PORT: String(port), NOTIFY_SOCKET: path.join(tmp, 'notify'), PATH: `${bin}:${process.env.PATH}` },
    });
    await s.ready();
    expect(statSync(sock).mode & 0o777).toBe(0o600);
    expect(readFileSync(pidFile, 'utf8').trim()).toBe(String(s.pid));

    const [second, table, stranger] = await Promise.all([
      // A second master cannot take a socket that is in use.
      ctl([example('http-sdk/server.js'), '-w', '1', '--control', sock], { env: { PORT: String(port) } }),
      ctl(['status', '--control', sock]),
      nobodyRunsCli ? ctl(['stop', '--control', sock], { user: 'nobody', cwd: '/' }) : null,
    ]);
    expectOneLine(second, 2, /in use by another running master/);
    if (stranger)
      expectOneLine(
        stranger,
        5,
        /cannot reach a supervise master at .*ctl\.sock: permission denied \(the master runs as another user\)/,
      );
    else if (asNobody) expect(await connectAsNobody(sock)).toBe('EACCES');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^master \d+ running: 2\/2 ready, generation 1/);
    expect(table.stdout).toMatch(/SLOT\s+PID\s+STATE\s+GEN\s+NODE\s+UPTIME\s+RESTARTS\s+RSS\s+IN-FLIGHT\s+RELEASE/);
    for (const pid of s.forkedPids())
      expect(table.stdout).toMatch(
        new RegExp(`\\n\\d+\\s+${pid}\\s+ready\\s+1\\s+v[\\d.]+\\s+\\d+s\\s+0\\s+[\\d.]+ MB\\s+\\d+\\s+/`),
      );

    const traffic = load(port, { connections: 10, maxMs: 30_000 });
    await until(() => traffic.result.ok > 100, 10_000, 'load to warm up');

    const up = await ctl(['scale', '+2', '--control', sock]);
    expect(up.stdout).toBe('scaled from 2 to 4 workers\n');
    const json = JSON.parse((await ctl(['status', '--json', '--control', sock])).stdout) as {
      master: { pid: number; workers: number; ready: number };
      workers: { pid: number; state: string; rssBytes: number }[];
    };
    expect(json.master).toMatchObject({ pid: s.pid, workers: 4, ready: 4 });
    expect(json.workers.filter((w) => w.state === 'ready')).toHaveLength(4);
    expect(json.workers.every((w) => w.rssBytes > 1e6)).toBe(true);

    const down = await ctl(['scale', '-3', '--control', sock]);
    expect(down.stdout).toBe('scaled from 4 to 1 workers\n');
    await until(() => s.servingPids().length === 1, 5_000, 'one serving worker in the log');

    const okAfter = traffic.result.ok;
    await until(() => traffic.result.ok > okAfter + 100, 10_000, 'load after the scaling');
    const result = await traffic.stop();
    expect(result.errors).toEqual([]);
    expect(result.failed).toBe(0);

    const reload = await ctl(['reload', '--control', sock]);
    expect(reload.code).toBe(0);
    // One line per new worker (and per old one gone, if it is gone by then), the summary, where it serves from.
    expect(reload.stdout).toMatch(
      /^slot 0: worker \d+ ready \(generation 2, node v[\d.]+, \/[^)]+\)\n(slot 0: old worker \d+ drained and exited\n)?rollout 2 done: 1 workers replaced in \d+ ms(; 1 old worker is still draining \(--wait-drained waits for them\))?\nserving from \/.+\n$/,
    );

    const stop = await ctl(['stop', '--control', sock]);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toBe(`master ${s.pid} stopped with exit code 0\n`);
    expect((await s.waitExit()).code).toBe(0);
    expect(existsSync(sock)).toBe(false);
    expect(existsSync(pidFile)).toBe(false);
    await waitGone([s.pid, ...s.forkedPids()]);

    // systemd-notify runs in the background; the stop's line may land just after the master exits.
    const notified = await until(
      () => {
        const text = existsSync(notifyLog) ? readFileSync(notifyLog, 'utf8') : '';
        return /STOPPING=1/.test(text) ? text.trim().split('\n') : null;
      },
      5_000,
      'STOPPING=1',
    );
    expect(notified[0]).toMatch(new RegExp(`^--pid=${s.pid} READY=1 MAINPID=${s.pid} STATUS=2/2 workers ready`));
    expect(notified.findIndex((l) => /RELOADING=1 MONOTONIC_USEC=\d+/.test(l))).toBeGreaterThan(0);
    expect(notified.filter((l) => /READY=1/.test(l))).toHaveLength(2);
    expect(notified.at(-1)).toMatch(/STOPPING=1/);
  });

  it('`supervise status` finds the master started from the same directory; a rolled-back reload exits 1', async () => {
    const port = await freePort();
    const cwd = mkdtempSync(path.join(tmp, 'app-'));
    const env = { XDG_RUNTIME_DIR: path.join(tmp, 'run'), PORT: String(port), FAIL_FROM_GENERATION: '2' };
    const s = supervise([fixture('observe/ops-app.js'), '-w', '1'], { cwd, env });
    await s.ready();
    const listening = await s.waitEvent('control.listening');
    const sock = listening.path as string;
    expect(path.dirname(sock)).toBe(path.join(tmp, 'run', 'supervise'));
    expect(statSync(path.dirname(sock)).mode & 0o777).toBe(0o700);
    expect(statSync(sock).mode & 0o777).toBe(0o600);

    const status = await ctl(['status', '--json'], { cwd, env });
    expect(status.code).toBe(0);
    expect((JSON.parse(status.stdout) as { master: { pid: number } }).master.pid).toBe(s.pid);

    const elsewhere = await ctl(['status'], { cwd: tmp, env });
    expectOneLine(elsewhere, 5, /no supervise master was started from /);

    const reload = await ctl(['reload'], { cwd, env });
    expectOneLine(
      reload,
      1,
      /rollout 2 rolled back after 0 replaced: worker \d+ \(slot 0\): .*exited with code 1.*the old workers keep serving/,
    );
    expect(s.servingPids()).toEqual(s.forkedPids().slice(0, 1));

    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
    expect(existsSync(sock)).toBe(false);
  });

  it('a client that cannot reach a master prints one line and exits 5', async () => {
    const [unreachable, badCount] = await Promise.all([
      ctl(['status', '--control', path.join(tmp, 'nobody.sock')]),
      ctl(['scale', 'lots', '--control', path.join(tmp, 'nobody.sock')]),
    ]);
    expectOneLine(unreachable, 5, /cannot reach a supervise master at .*nobody\.sock: no such socket/);
    expectOneLine(badCount, 2, /scale: expected n, \+n, -n or max, got "lots"/);
  });
});
