import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { get, until } from '../../helpers/http.js';
import { freePort, killAll, runCli, supervise, tempDir, trackPid } from '../../helpers/supervise.js';

afterEach(() => killAll());

const APP = `require('node:http')
  .createServer((req, res) => res.end(String(process.pid)))
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

describe('upgrade by signal (SIGUSR2), under systemd, with a pid file and a named control socket', () => {
  it('the pid file, the control socket and MAINPID move to the new master; the old one never says STOPPING', async () => {
    const dir = tempDir('supervise-upgrade-systemd-');
    writeFileSync(path.join(dir, 'app.js'), APP);
    // A stand-in for systemd-notify that records its arguments.
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    const notifyLog = path.join(dir, 'notify.log');
    writeFileSync(path.join(bin, 'systemd-notify'), `#!/bin/sh\necho "$@" >> "${notifyLog}"\n`);
    chmodSync(path.join(bin, 'systemd-notify'), 0o755);
    const port = await freePort();
    const sock = path.join(dir, 'ctl.sock');
    const pidFile = path.join(dir, 'master.pid');
    const env = {
      PORT: String(port),
      NOTIFY_SOCKET: path.join(dir, 'notify'),
      PATH: `${bin}:${process.env.PATH}`,
      XDG_RUNTIME_DIR: path.join(dir, 'run'),
    };
    const s = supervise(['app.js', '-w', '1', '--control', sock, '--pid-file', pidFile], { cwd: dir, env });
    await s.ready();
    const old = s.pid;
    await until(() => readFileSync(notifyLog, 'utf8').includes(`MAINPID=${old}`), 10_000, 'the first READY');

    s.signal('SIGUSR2');
    const done = await s.waitEvent('upgrade.done', undefined, 20_000);
    const next = done.to as number;
    trackPid(next);
    expect((await s.waitExit()).code).toBe(0);
    expect(readFileSync(pidFile, 'utf8').trim()).toBe(String(next));
    const status = await runCli(['status', '--json', '--control', sock], { cwd: dir });
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { master: { pid: number } }).master.pid).toBe(next);
    expect(Number((await get(port)).body)).not.toBeNaN();

    const notes = readFileSync(notifyLog, 'utf8');
    expect(notes).toContain(`--pid=${next} READY=1 MAINPID=${next}`);
    expect(notes).not.toContain('STOPPING=1');
    const stop = await runCli(['stop', '--control', sock], { cwd: dir });
    expect(stop.code, stop.stderr).toBe(0);
  }, 40_000);
});
