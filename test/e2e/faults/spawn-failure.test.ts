/**
 * A fork that fails (issue 27): the working directory of a release was deleted, the node binary was removed by a
 * package upgrade. No worker without a pid: a boot failure with its cause in one line, through the same rollback
 * and crash-loop paths as a worker that dies before it is ready; the master stops as usual afterwards.
 */
import { chmodSync, copyFileSync, linkSync, rmSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { get, pidsAnswering } from '../../helpers/http.js';
import {
  fixture,
  freePort,
  killAll,
  type LogLine,
  runCli,
  supervise,
  tempDir,
  waitGone,
} from '../../helpers/supervise.js';

afterEach(() => killAll());

const positive = (l: LogLine) => typeof l.pid === 'number' && l.pid > 0;

describe('faults: a fork that fails', () => {
  it('the working directory is deleted, then SIGHUP: rolled back, the old workers serve, no pid -1, SIGTERM stops', async () => {
    // The master runs from a release directory; the app itself lives elsewhere.
    const release = tempDir('supervise-release-');
    const control = path.join(tempDir('supervise-ctl-'), 'ctl.sock');
    const port = await freePort();
    const s = supervise([fixture('faults/fault-app.js'), '-w', '2', '--control', control], {
      cwd: release,
      env: { PORT: String(port) },
    });
    await s.ready();
    const old = s.forkedPids();
    rmSync(release, { recursive: true, force: true });

    s.signal('SIGHUP');
    const end = await s.waitEvent('rollout.end', undefined, 15_000);
    expect(end).toMatchObject({ generation: 2, outcome: 'rolled-back', replaced: 0, reason: 'spawn' });
    expect(String(end.msg)).toContain(`cannot start worker: working directory ${release} does not exist`);
    expect(s.events('worker.fork').every(positive)).toBe(true);
    expect(s.forkedPids().sort()).toEqual([...old].sort());
    expect([...(await pidsAnswering(port, 12))].sort()).toEqual([...old].sort());

    const status = await runCli(['status', '--json', '--control', control]);
    expect(status.code).toBe(0);
    const body = JSON.parse(status.stdout) as {
      master: { ready: number; rollout: boolean };
      workers: { pid: number; state: string }[];
    };
    expect(body.master).toMatchObject({ ready: 2, rollout: false });
    expect(body.workers.map((w) => w.pid).sort()).toEqual([...old].sort());
    expect(body.workers.every((w) => w.pid > 0 && w.state === 'ready')).toBe(true);

    s.signal('SIGTERM');
    expect((await s.waitExit(5_000)).code).toBe(0);
    expect(s.events('master.stopped')).toHaveLength(1);
    await waitGone([s.pid, ...old]);
  });

  it('the node binary is removed: a crashed worker cannot restart, the breaker stops the master with the cause', async () => {
    // A node binary of its own, as an upgrade would remove it: a hard link (or a copy) of this one.
    const bin = path.join(tempDir('supervise-node-'), 'node');
    try {
      linkSync(process.execPath, bin);
    } catch {
      copyFileSync(process.execPath, bin);
      chmodSync(bin, 0o755);
    }
    const port = await freePort();
    const s = supervise(
      [
        fixture('faults/fault-app.js'),
        '-w',
        '2',
        '--restart-delay',
        '20',
        '--crash-limit',
        '2',
        '--kill-timeout',
        '3000',
      ],
      { node: bin, env: { PORT: String(port) } },
    );
    await s.ready();
    const old = s.forkedPids();
    rmSync(bin);

    await get(port, '/crash');
    const { code } = await s.waitExit(15_000);
    expect(code).toBe(3);
    const failures = s.events('worker.boot-failed');
    expect(failures.length).toBeGreaterThanOrEqual(1);
    for (const f of failures) expect(f.reason).toBe(`cannot start worker: node binary ${bin} not found`);
    expect(s.events('master.fatal')[0]).toMatchObject({ code: 'ERR_BOOT_FAILURE' });
    expect(s.stderr).toContain(`cannot start worker: node binary ${bin} not found`);
    expect(s.events('worker.fork').every(positive)).toBe(true);
    expect(s.events('master.stopped')).toHaveLength(1);
    await waitGone([s.pid, ...old]);
  });
});
