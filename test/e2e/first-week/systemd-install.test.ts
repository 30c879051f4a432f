/**
 * Issue 31: `supervise systemd` printed a unit and left installing and enabling it to the user. --install writes
 * it, runs `systemctl daemon-reload` and `enable`, and says how to remove it; --uninstall undoes it. A fake
 * systemctl on PATH records its arguments and --unit-dir points at a temporary directory: the real system is
 * never touched.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { fixture, killAll, runCli, tempDir } from '../../helpers/supervise.js';

afterEach(() => killAll());

/** A directory with a fake `systemctl` that appends its argv to calls.log and exits with $FAKE_SYSTEMCTL_EXIT. */
function fakeSystemd(): { env: Record<string, string>; calls: () => string[]; units: string } {
  const dir = tempDir('supervise-systemd-');
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  const log = path.join(dir, 'calls.log');
  writeFileSync(
    path.join(bin, 'systemctl'),
    `#!/bin/sh\necho "$*" >> ${JSON.stringify(log)}\n[ -n "$FAKE_SYSTEMCTL_EXIT" ] && { echo "Failed to enable unit: Access denied" >&2; exit "$FAKE_SYSTEMCTL_EXIT"; }\nexit 0\n`,
  );
  chmodSync(path.join(bin, 'systemctl'), 0o755);
  return {
    env: { PATH: `${bin}:${process.env.PATH}` },
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []),
    units: path.join(dir, 'units'),
  };
}

describe('supervise systemd --install', () => {
  it('a user unit: written, daemon-reload, enable; then --uninstall removes it', async () => {
    const sys = fakeSystemd();
    const app = fixture('rollout/env-app.js');
    const args = ['systemd', '--install', '--user-unit', '--unit-dir', sys.units, '--name', 'myapp', app, '-w', '2'];
    const r = await runCli(args, { env: sys.env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const file = path.join(sys.units, 'myapp.service');
    const unit = readFileSync(file, 'utf8');
    expect(unit).toMatch(
      new RegExp(`^ExecStart=\\S+ \\S+cli\\.cjs ${app.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} -w 2$`, 'm'),
    );
    expect(unit).not.toMatch(/^User=/m);
    expect(unit).toMatch(/^WantedBy=default\.target$/m);
    expect(sys.calls()).toEqual(['--user daemon-reload', '--user enable myapp']);
    expect(r.stdout).toContain(`wrote ${file}\n`);
    expect(r.stdout).toMatch(/^Start it now: systemctl --user start myapp$/m);
    expect(r.stdout).toMatch(/^To remove it: supervise systemd --uninstall --user-unit --unit-dir \S+ --name myapp$/m);

    const u = await runCli(['systemd', '--uninstall', '--user-unit', '--unit-dir', sys.units, '--name', 'myapp'], {
      env: sys.env,
    });
    expect([u.code, u.stderr]).toEqual([0, '']);
    expect(existsSync(file)).toBe(false);
    expect(sys.calls().slice(2)).toEqual(['--user disable --now myapp', '--user daemon-reload']);
  });

  it('a system unit; a systemctl that fails is one line, exit 5', async () => {
    const sys = fakeSystemd();
    const args = ['systemd', '--install', '--unit-dir', sys.units, '--name', 'api', fixture('rollout/env-app.js')];
    const r = await runCli(args, { env: sys.env });
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(readFileSync(path.join(sys.units, 'api.service'), 'utf8')).toMatch(/^User=\S+$/m);
    expect(sys.calls()).toEqual(['daemon-reload', 'enable api']);
    const failing = await runCli(args, { env: { ...sys.env, FAKE_SYSTEMCTL_EXIT: '1' } });
    expect([failing.code, failing.stderr]).toEqual([
      5,
      'supervise: systemctl daemon-reload failed: Failed to enable unit: Access denied\n',
    ]);
  });
});
