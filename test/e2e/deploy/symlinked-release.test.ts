import { execFile } from 'node:child_process';
import { existsSync, realpathSync, rmSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { get } from '../../helpers/http.js';
import { makeRelease, releaseCli, switchCurrent } from '../../helpers/releases.js';
import { freePort, killAll, runCli, supervise, tempDir } from '../../helpers/supervise.js';

afterEach(() => killAll());

/** `n` answers, each on a fresh connection (so that every serving worker can be the one that answers). */
async function answers(port: number, n = 12): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await get(port)).body);
  return out;
}

describe('a Capistrano-style deploy: `current` switched to a new release, then `supervise reload`', () => {
  it('serves the new release after the switch, and keeps serving once the old release is deleted', async () => {
    const root = realpathSync(tempDir('supervise-deploy-'));
    makeRelease(root, '1');
    makeRelease(root, '2');
    switchCurrent(root, '1');
    const current = path.join(root, 'current');
    const port = await freePort();
    // As a shell leaves it after `cd /srv/app/current`: the kernel's cwd is the release, $PWD names `current`.
    const env = { PORT: String(port), PWD: current, XDG_RUNTIME_DIR: path.join(root, 'run') };
    const s = supervise(['app.js', '-w', '2'], { cwd: current, env, cli: releaseCli(root) });
    const ready = await s.ready();
    expect(ready.cwd).toBe(current);
    expect(ready.release).toBe(path.join(root, 'releases/1'));
    expect(new Set((await answers(port)).map((a) => a.split(' ').slice(0, 2).join(' ')))).toEqual(new Set(['1 1']));

    switchCurrent(root, '2');
    const ctl = (args: string[]) =>
      runCli(args, { cwd: current, env: { PWD: current, XDG_RUNTIME_DIR: env.XDG_RUNTIME_DIR } });
    const first = await ctl(['reload', '--wait-drained']);
    expect(first, first.stderr).toMatchObject({ code: 0 });
    // The proof a deploy script wants: what the new workers resolved `current` to.
    expect(first.stdout).toContain(`serving from ${path.join(root, 'releases/2')}\n`);
    // Every answer, on the script's directory and on the cwd's REVISION: the new release.
    expect(new Set((await answers(port)).map((a) => a.split(' ').slice(0, 2).join(' ')))).toEqual(new Set(['2 2']));

    const status = await ctl(['status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    const body = JSON.parse(status.stdout) as {
      master: { cwd: string; release: string };
      workers: { release: string }[];
    };
    expect(body.master).toMatchObject({ cwd: current, release: path.join(root, 'releases/2') });
    expect(body.workers.map((w) => w.release)).toEqual([path.join(root, 'releases/2'), path.join(root, 'releases/2')]);

    // The old release, supervise's own install in it included, goes: the next reload still works.
    rmSync(path.join(root, 'releases/1'), { recursive: true, force: true });
    const second = await ctl(['reload', '--wait-drained']);
    expect(second, second.stderr).toMatchObject({ code: 0 });
    expect(s.events('rollout.end').map((l) => l.outcome)).toEqual(['done', 'done']);
    expect(new Set((await answers(port)).map((a) => a.split(' ').slice(0, 2).join(' ')))).toEqual(new Set(['2 2']));

    // The engine the workers preload came from the master's private copy, removed when the master exits.
    const copy = path.join(env.XDG_RUNTIME_DIR, 'supervise', `preload-${s.pid}`);
    expect(existsSync(copy)).toBe(true);
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
    expect(existsSync(copy)).toBe(false);
  });

  it('`supervise systemd` run in `current` names `current`: the directory (with --cwd, systemd sets no $PWD) and the CLI', async () => {
    const root = realpathSync(tempDir('supervise-deploy-'));
    makeRelease(root, '1');
    switchCurrent(root, '1');
    const current = path.join(root, 'current');
    const unit = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        [releaseCli(root), 'systemd', 'app.js', '-w', '2'],
        { cwd: current, env: { ...process.env, PWD: current }, timeout: 30_000 },
        (err, stdout) => resolve({ code: err ? 1 : 0, stdout }),
      );
    });
    expect(unit.code).toBe(0);
    expect(unit.stdout).toContain(`WorkingDirectory=${current}\n`);
    expect(unit.stdout).toMatch(new RegExp(`^ExecStart=\\S+ ${releaseCli(root)} app\\.js -w 2 --cwd ${current}$`, 'm'));
    expect(unit.stdout).not.toContain('releases/1');
  });
});
