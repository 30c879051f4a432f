/**
 * What a new user looks for first (part of issue 19): the readable ready line says where the app is and which
 * pid to signal, one sentence per line; each worker knows its instance number; scale takes `max` and says
 * what is wrong once.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { get, until } from '../../helpers/http.js';
import {
  CLI,
  example,
  fixture,
  freePort,
  killAll,
  runCli,
  supervise,
  tempDir,
  trackPid,
} from '../../helpers/supervise.js';

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
    expect(ready).toMatch(
      new RegExp(
        `INFO: all 2 workers are ready in \\d+ ms: http://127\\.0\\.0\\.1:${port} \\(master pid ${child.pid}, connections: shared\\)$`,
      ),
    );
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
    const s = supervise([fixture('rollout/env-app.js'), '-w', '3'], { env: { PORT: String(port) } });
    await s.ready();
    const seen = new Map<number, Record<string, string>>();
    await until(
      async () => {
        const body = JSON.parse((await get(port, '/')).body) as Record<string, string> & { pid: number };
        seen.set(body.pid, body);
        return seen.size === 3;
      },
      10_000,
      'all three workers to answer',
    );
    for (const fork of s.events('worker.fork')) {
      const env = seen.get(fork.pid as number)!;
      expect(env).toMatchObject({
        SUPERVISE_SLOT: String(fork.slot),
        NODE_APP_INSTANCE: String(fork.slot),
        SUPERVISE_GENERATION: '1',
      });
    }
  });

  it('scale: `max` works as -w max does; a count that leaves no worker says so once, exit 2', async () => {
    const port = await freePort();
    const sock = path.join(tempDir('supervise-hour-'), 'ctl.sock');
    const s = supervise([example('http-basic/server.js'), '-w', '1', '--control', sock], {
      env: { PORT: String(port) },
    });
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

describe('finding your way', () => {
  it('`supervise --watch <dir> app.js` runs app.js and watches the directory', async () => {
    const port = await freePort();
    const dir = path.dirname(example('http-basic/server.js'));
    const s = supervise(['--watch', dir, example('http-basic/server.js'), '-w', '1'], { env: { PORT: String(port) } });
    await s.ready();
    expect((await s.waitEvent('watch.ready', undefined, 10_000)).paths).toEqual([dir]);
    expect((await get(port)).status).toBe(200);
  });

  it('control commands work from a subdirectory; list shows the running masters; help <command>; --json errors are JSON', async () => {
    const project = tempDir();
    const sub = path.join(project, 'src', 'deep');
    mkdirSync(sub, { recursive: true });
    const port = await freePort();
    const s = supervise([example('http-basic/server.js'), '-w', '2'], { cwd: project, env: { PORT: String(port) } });
    await s.ready();
    const status = await runCli(['status'], { cwd: sub });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^master ${s.pid} running: 2/2 ready`));

    const list = await runCli(['list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^PID +DIRECTORY +SCRIPT +WORKERS +UPTIME +STATE$/m);
    expect(list.stdout).toMatch(
      new RegExp(
        `^${s.pid} +${project.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +\\S*server\\.js +2/2 +\\d+s +running$`,
        'm',
      ),
    );

    const help = await runCli(['help', 'status']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: supervise status \[options\]/);

    // Where no master was started, whatever else runs on this machine: an empty directory, and a control
    // directory of its own (masters started by other tests or people live in the shared one).
    const nowhere = await runCli(['status', '--json'], { cwd: tempDir(), env: { XDG_RUNTIME_DIR: tempDir() } });
    expect(nowhere.code).toBe(5);
    expect(JSON.parse(nowhere.stdout)).toMatchObject({
      ok: false,
      code: 'ERR_CONTROL',
      error: expect.stringMatching(/^no supervise master was started from /),
    });
  });

  it('--help shows examples, the signals and the exit codes', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Examples:$/m);
    expect(help.stdout).toMatch(/^ {2}SIGHUP +rolling restart/m);
    expect(help.stdout).toMatch(/^Exit codes:$/m);
    expect(help.stdout).toMatch(/4 the port is in use/);
  });
});

describe('from PM2', () => {
  it('a one-app ecosystem.config.js runs with its options, and names the keys it ignores', async () => {
    const dir = tempDir();
    const port = await freePort();
    writeFileSync(
      path.join(dir, 'ecosystem.config.js'),
      `module.exports = { apps: [{ name: 'api', script: ${JSON.stringify(fixture('rollout/env-app.js'))}, instances: 3, exec_mode: 'cluster',
        env: { PORT: ${port}, FOO: 'from-pm2' }, kill_timeout: 4000, max_memory_restart: '300M', wait_ready: true, log_date_format: 'YYYY' }] };\n`,
    );
    const s = supervise(['ecosystem.config.js'], { cwd: dir });
    const ready = await s.ready();
    expect(ready.workers).toBe(3);
    const answer = JSON.parse((await get(port)).body) as { FOO: string };
    expect(answer.FOO).toBe('from-pm2');
    const notes = s.events('config.note').map((l) => l.msg);
    expect(notes).toContain('ecosystem.config.js: PM2 app "api"');
    expect(notes.some((n) => /ignored wait_ready: /.test(String(n)))).toBe(true);
    expect(notes.some((n) => /ignored log_date_format: /.test(String(n)))).toBe(true);
    const sock = (await s.waitEvent('control.listening')).path as string;
    expect((await runCli(['status', '--json', '--control', sock])).stdout).toMatch(/"workers": 3/);
  });

  it('an ecosystem file with several apps: one line saying one master per app; --app picks one', async () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'ecosystem.config.js'),
      `module.exports = { apps: [{ name: 'api', script: 'a.js' }, { name: 'jobs', script: 'b.js' }] };\n`,
    );
    for (const f of ['a.js', 'b.js']) writeFileSync(path.join(dir, f), '');
    const both = await runCli(['ecosystem.config.js'], { cwd: dir });
    expect(both.code).toBe(2);
    expect(both.stderr).toBe(
      'supervise: ecosystem.config.js: apps: 2 apps (api, jobs): supervise runs one master per app; pick one with --app <name>\n',
    );
    const units = await runCli(['systemd', 'ecosystem.config.js'], { cwd: dir });
    expect(units.code).toBe(0);
    expect(units.stdout.match(/^\[Service\]$/gm)).toHaveLength(2);
    expect(units.stdout).toMatch(/ExecStart=\S+ \S+cli\.cjs ecosystem\.config\.js --app api$/m);
    expect(units.stdout).toMatch(/ExecStart=\S+ \S+cli\.cjs ecosystem\.config\.js --app jobs$/m);
  });

  it('supervise systemd prints a unit that systemd-analyze verify accepts', async (ctx) => {
    const dir = tempDir();
    const run = await runCli(
      ['systemd', '--name', 'myapp', example('http-basic/server.js'), '-w', '4', '--kill-timeout', '20s'],
      { cwd: dir, env: { PORT: '3000' } },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Type=notify$/m);
    expect(run.stdout).toMatch(/^NotifyAccess=all$/m);
    expect(run.stdout).toMatch(/^KillMode=mixed$/m);
    expect(run.stdout).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    expect(run.stdout).toMatch(/^TimeoutStopSec=30$/m);
    expect(run.stdout).toMatch(new RegExp(`^WorkingDirectory=${dir}$`, 'm'));
    expect(run.stdout).toMatch(new RegExp(`^User=${os.userInfo().username}$`, 'm'));
    expect(run.stdout).toMatch(/^Environment=PORT=3000$/m);
    expect(run.stderr).toMatch(/sudo systemctl daemon-reload && sudo systemctl enable --now myapp/);
    const bad = await runCli(['systemd', example('http-basic/server.js'), '-w', 'zero']);
    expect(bad.code).toBe(2);
    const verify = await new Promise<{ code: number | null; out: string } | null>((resolve) => {
      const unit = path.join(dir, 'myapp.service');
      writeFileSync(unit, run.stdout);
      execFile('systemd-analyze', ['verify', unit], { timeout: 20_000 }, (err, stdout, stderr) => {
        if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') resolve(null);
        else resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
      });
    });
    if (verify === null) {
      console.warn('systemd-analyze is not installed: the unit is not verified');
      ctx.skip();
    }
    expect(verify).toEqual({ code: 0, out: '' });
  });
});
