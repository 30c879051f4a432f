import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { load, until } from '../../helpers/http.js';
import { CLI, freePort, isAlive, killAll, runCli, tempDir, trackPid, waitGone } from '../../helpers/supervise.js';
import { masterInDir, upgradeDone } from '../../helpers/master-in-dir.js';

afterEach(() => killAll());

/** unshare(1) makes a PID namespace (as root), in which the master is PID 1, as in a container. */
const UNSHARE = ['/usr/bin/unshare', '/bin/unshare'].find((f) => existsSync(f));
const pid1Skip = !UNSHARE ? 'no unshare(1)' : process.getuid?.() !== 0 ? 'unshare --pid needs root' : null;
if (pid1Skip) console.warn(`PID 1 upgrade test skipped: ${pid1Skip}`);

/** An app whose next release is broken: with a `broken` file beside it, it throws before it listens. */
const APP = `const fs = require('node:fs');
const path = require('node:path');
if (fs.existsSync(path.join(__dirname, 'broken'))) throw new Error('settings.json: unexpected end of input');
require('node:http')
  .createServer((req, res) => res.end(String(process.pid)))
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

interface Status {
  master: { pid: number };
  workers: { pid: number }[];
}

describe('supervise upgrade: a new master that fails leaves the old one serving', () => {
  it('its workers throw at boot: one line with the cause, exit 1, the old master and workers serve on, 0 failed', async () => {
    const { dir, port, s, ctl } = await masterInDir('supervise-upgrade-fail-', ['app.js', '-w', '2'], {
      files: { 'app.js': APP },
    });
    await s.ready();
    const status = async () => JSON.parse((await ctl(['status', '--json'])).stdout) as Status;
    const before = await status();

    const traffic = load(port, { connections: 8, maxMs: 30_000, maxRequests: 100_000 });
    await until(() => traffic.result.ok > 100, 10_000, 'load to warm up');
    // A --node that is not a Node: refused before anything starts, one line, exit 2.
    const notNode = await ctl(['upgrade', '--node', '/bin/true']);
    expect(notNode.code).toBe(2);
    expect(notNode.stderr).toMatch(/^supervise: upgrade: --node \/bin\/true: does not look like node/);
    expect(notNode.stderr.trim().split('\n')).toHaveLength(1);

    writeFileSync(path.join(dir, 'broken'), '');
    const run = await ctl(['upgrade']);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(
      /^supervise: upgrade failed: a new worker \(pid \d+\) exited with code 1 before it was ready: Error: settings.json: unexpected end of input \(app.js:3\); master \d+ keeps serving/,
    );
    // The new master said who it was, then exited; the old one is the same, with the same workers.
    const newMaster = (await s.waitEvent('upgrade.adopting', undefined, 5_000)).pid as number;
    expect(s.events('upgrade.adopting')).toHaveLength(1);
    trackPid(newMaster);
    await waitGone([newMaster], 15_000);
    expect(await status()).toMatchObject({
      master: { pid: before.master.pid },
      workers: before.workers.map((w) => ({ pid: w.pid })),
    });
    await s.waitEvent('upgrade.failed', undefined, 5_000);
    const ok = traffic.result.ok;
    await until(() => traffic.result.ok > ok + 100, 10_000, 'load after the failed upgrade');

    // Fixed: the next upgrade goes through.
    rmSync(path.join(dir, 'broken'));
    await upgradeDone(ctl, before, { goneMs: 15_000 });
    const ok2 = traffic.result.ok;
    await until(() => traffic.result.ok > ok2 + 100, 10_000, 'load on the new master');
    const result = await traffic.stop();
    expect(result.errors).toEqual([]);
    expect(result.failed).toBe(0);
    console.info(`failed upgrade, then a good one, under load: ${result.ok} answered, ${result.failed} failed`);
  }, 60_000);

  it.skipIf(pid1Skip !== null)(
    "as a container's PID 1: refused in one line, nothing started",
    async () => {
      const dir = tempDir('supervise-upgrade-pid1-');
      writeFileSync(path.join(dir, 'app.js'), APP);
      const port = await freePort();
      const env = { ...process.env, PORT: String(port), XDG_RUNTIME_DIR: path.join(dir, 'run') };
      // A new PID namespace, as a container's: the master is its PID 1. --kill-child: killing unshare ends it.
      const child = spawn(
        UNSHARE!,
        ['--pid', '--fork', '--kill-child', '--mount-proc', process.execPath, CLI, 'app.js', '--log-format', 'json'],
        { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      trackPid(child.pid);
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
      await until(() => /master\.ready|unshare: /.test(out), 15_000, 'the master in its namespace');
      if (/unshare: /.test(out)) return void console.warn(`PID 1 test skipped: ${out.trim()}`);
      const control = /"event":"control.listening","path":"([^"]+)"/.exec(out)?.[1];
      expect(control).toBeDefined();
      expect(out).toMatch(/"pid":1,/);
      const run = await runCli(['upgrade', '--control', control!], { cwd: dir });
      expect(run.code).toBe(5);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(/upgrade: the master is PID 1 \(a container's init\)/);
      expect(out).not.toMatch(/upgrade\.start/);
      expect(isAlive(child.pid!)).toBe(true);
      child.kill('SIGTERM');
    },
    30_000,
  );
});
