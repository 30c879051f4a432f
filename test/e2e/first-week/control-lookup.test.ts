/**
 * Issue 31: the control lookup walked up from the current directory: `supervise status` run under the temp
 * directory reported another job's master (started from the temp directory itself), and `supervise stop` there
 * would have stopped it. A lookup never walks up into a shared directory (/, the temp and home directories); a
 * change found above this directory says which master it acts on; --app tells apart the masters of one directory.
 * The control directory (XDG_RUNTIME_DIR) and the temp directory (TMPDIR) are this test's own.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { fixture, freePort, isAlive, killAll, runCli, supervise, tempDir } from '../../helpers/supervise.js';

afterEach(() => killAll());

async function project(dir: string, apps: string[]): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const entries = await Promise.all(
    apps.map(
      async (name) =>
        `{ name: '${name}', script: ${JSON.stringify(fixture('rollout/env-app.js'))}, instances: 1, env: { PORT: ${await freePort()} } }`,
    ),
  );
  writeFileSync(path.join(dir, 'ecosystem.config.js'), `module.exports = { apps: [${entries.join(', ')}] };\n`);
}

describe('control lookup', () => {
  it('never walks up into the temp directory; a change from below a master names it; --app picks one of several', async () => {
    const tmp = tempDir('supervise-lookup-');
    const env = { TMPDIR: tmp, XDG_RUNTIME_DIR: path.join(tmp, 'run') };
    const [other, mine, shared, third] = ['', 'mine', 'shared', 'third'].map((d) => path.join(tmp, d));
    await project(other!, ['other-job']);
    await project(mine!, ['mine']);
    await project(shared!, ['api', 'jobs']);
    mkdirSync(path.join(mine!, 'src'));
    mkdirSync(third!);
    const masters = [
      supervise(['ecosystem.config.js'], { cwd: other, env }),
      supervise(['ecosystem.config.js'], { cwd: mine, env }),
      supervise(['ecosystem.config.js', '--app', 'api'], { cwd: shared, env }),
      supervise(['ecosystem.config.js', '--app', 'jobs'], { cwd: shared, env }),
    ];
    await Promise.all(masters.map((m) => m.ready()));
    const [otherJob, mineM, api, jobs] = masters as [
      (typeof masters)[0],
      (typeof masters)[0],
      (typeof masters)[0],
      (typeof masters)[0],
    ];

    // From a third directory under the temp directory: the master started from the temp directory is not its own.
    const status = await runCli(['status'], { cwd: third, env });
    expect(status.code).toBe(5);
    expect(status.stderr).toBe(
      `supervise: no supervise master was started from ${third} or above it (pass --control <path> to name its socket; \`supervise list\` shows the running ones)\n`,
    );
    const stop = await runCli(['stop'], { cwd: third, env });
    expect(stop.code).toBe(5);
    expect(isAlive(otherJob.pid)).toBe(true);
    // From the temp directory itself, its own master.
    const own = await runCli(['status', '--json'], { cwd: other, env });
    expect((JSON.parse(own.stdout) as { master: { pid: number } }).master.pid).toBe(otherJob.pid);

    // Below a project: its master, and a change says which one.
    const below = await runCli(['status', '--json'], { cwd: path.join(mine!, 'src'), env });
    expect((JSON.parse(below.stdout) as { master: { pid: number } }).master.pid).toBe(mineM.pid);
    const scale = await runCli(['scale', '1'], { cwd: path.join(mine!, 'src'), env });
    expect(scale.code).toBe(0);
    expect(scale.stderr).toBe(
      `supervise: scale: master ${mineM.pid} (mine) started from ${mine}, above this directory\n`,
    );

    // Two masters in one directory: named, and --app picks one.
    const both = await runCli(['stop'], { cwd: shared, env });
    expect(both.code).toBe(5);
    expect(both.stderr).toMatch(
      new RegExp(
        `^supervise: 2 masters were started from ${shared} \\(.*\\): pick one with --app <name> or --control \\S+\n$`,
      ),
    );
    expect(both.stderr).toContain(`api (pid ${api.pid})`);
    expect(both.stderr).toContain(`jobs (pid ${jobs.pid})`);
    const picked = await runCli(['status', '--json', '--app', 'jobs'], { cwd: shared, env });
    expect((JSON.parse(picked.stdout) as { master: { pid: number } }).master.pid).toBe(jobs.pid);
    const stopJobs = await runCli(['stop', '--app', 'jobs'], { cwd: shared, env });
    expect([stopJobs.code, stopJobs.stdout]).toEqual([0, `master ${jobs.pid} stopped with exit code 0\n`]);
    expect(isAlive(api.pid)).toBe(true);
    const none = await runCli(['status', '--app', 'nope'], { cwd: shared, env });
    expect(none.code).toBe(5);
    expect(none.stderr).toMatch(/^supervise: no master of app "nope" was started from .*: it has api \(pid \d+\)\n$/);
  });

  it('a master started from a logical path (current) is found from the physical directory it resolves to', async () => {
    const tmp = tempDir('supervise-lookup-logical-');
    const env = { TMPDIR: tmp, XDG_RUNTIME_DIR: path.join(tmp, 'run') };
    const release = path.join(tmp, 'releases', '41');
    await project(release, ['site']);
    const current = path.join(tmp, 'current');
    symlinkSync(release, current);
    const m = supervise(['ecosystem.config.js'], { cwd: current, env: { ...env, PWD: current } });
    await m.ready();
    const r = await runCli(['status', '--json'], { cwd: release, env: { ...env, PWD: release } });
    expect(r.stderr).toBe('');
    const status = JSON.parse(r.stdout) as { master: { pid: number; cwd: string } };
    expect(status.master).toMatchObject({ pid: m.pid, cwd: current });
  });
});
