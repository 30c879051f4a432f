import { execFile } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { SuperviseError } from '../errors.js';

/**
 * `supervise systemd --install` (`pm2 startup` and `pm2 save` in one step): the unit written where systemd reads
 * it, `systemctl daemon-reload`, `systemctl enable`; `--uninstall` undoes it. A system unit by default, or a user
 * unit (`--user-unit`: no root needed). `--unit-dir` puts the file elsewhere (tests, a staging tree).
 */

export interface InstallTarget {
  userUnit: boolean;
  /** --unit-dir; else systemd's directory for the scope. */
  unitDir: string | undefined;
}

const SYSTEMCTL_TIMEOUT_MS = 60_000;

export function unitDirOf({ userUnit, unitDir }: InstallTarget, env: NodeJS.ProcessEnv = process.env): string {
  if (unitDir !== undefined) return path.resolve(unitDir);
  if (!userUnit) return '/etc/systemd/system';
  return path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'systemd', 'user');
}

/** `systemctl [--user] <args>`; a failure is one line with what systemctl said. */
function systemctl(target: InstallTarget, args: string[]): Promise<void> {
  const argv = [...(target.userUnit ? ['--user'] : []), ...args];
  return new Promise((resolve, reject) => {
    execFile('systemctl', argv, { timeout: SYSTEMCTL_TIMEOUT_MS }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const code = (err as NodeJS.ErrnoException).code;
      const said = String(stderr).trim().split('\n')[0] ?? '';
      reject(
        new SuperviseError(
          'ERR_CONTROL',
          code === 'ENOENT'
            ? 'systemctl not found: this system does not run systemd (or it is not in PATH)'
            : `systemctl ${argv.join(' ')} failed${said ? `: ${said}` : ` (exit ${String(code)})`}`,
        ),
      );
    });
  });
}

function writeUnit(file: string, text: string): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    // Whole or not at all: systemd may read the directory at any moment.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint =
      code === 'EACCES' || code === 'EPERM' ? ' (run it with sudo, or give --user-unit for a user unit)' : '';
    throw new SuperviseError('ERR_USAGE', `systemd: cannot write ${file}: ${code ?? String(err)}${hint}`);
  }
}

const ctl = (target: InstallTarget) => (target.userUnit ? 'systemctl --user' : 'systemctl');

/** Writes each unit, reloads systemd and enables them; returns what to tell the user. */
export async function installUnits(units: { unit: string; text: string }[], target: InstallTarget): Promise<string> {
  const dir = unitDirOf(target);
  const names = units.map((u) => u.unit);
  for (const u of units) writeUnit(path.join(dir, `${u.unit}.service`), u.text);
  await systemctl(target, ['daemon-reload']);
  await systemctl(target, ['enable', ...names]);
  const scope = target.userUnit ? ' --user-unit' : '';
  const dirFlag = target.unitDir !== undefined ? ` --unit-dir ${dir}` : '';
  return (
    units.map((u) => `wrote ${path.join(dir, `${u.unit}.service`)}\n`).join('') +
    `enabled ${names.join(', ')}: it starts at boot${target.userUnit ? ' (at your login; for boot without a login: loginctl enable-linger)' : ''}\n` +
    `Start it now: ${ctl(target)} start ${names.join(' ')}\n` +
    `To remove it: supervise systemd --uninstall${scope}${dirFlag} ${names.length === 1 ? `--name ${names[0]}` : '<the same arguments>'}\n` +
    `  (or: ${ctl(target)} disable --now ${names.join(' ')} && rm ${names.map((n) => path.join(dir, `${n}.service`)).join(' ')} && ${ctl(target)} daemon-reload)\n`
  );
}

/** Stops and disables each unit, removes its file, reloads systemd. */
export async function uninstallUnits(names: string[], target: InstallTarget): Promise<string> {
  const dir = unitDirOf(target);
  await systemctl(target, ['disable', '--now', ...names]);
  for (const n of names) rmSync(path.join(dir, `${n}.service`), { force: true });
  await systemctl(target, ['daemon-reload']);
  return names.map((n) => `removed ${n} (${path.join(dir, `${n}.service`)})\n`).join('');
}
