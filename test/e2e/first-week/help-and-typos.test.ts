/**
 * Issue 31: `supervise help systemd` printed the main help and exited 2; systemd, --name and --user were missing
 * from --help; `supervise satus` said `script not found`; an unknown option took two lines; a syntax error in a JS
 * config file had no position.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { killAll, runCli, tempDir } from '../../helpers/supervise.js';

afterEach(() => killAll());

const COMMANDS = ['status', 'reload', 'stop', 'scale', 'list', 'top', 'logs', 'config', 'systemd', 'help'];

describe('help and typos', () => {
  it('help <every command> exits 0 with that command; --help names systemd, --name, --user', async () => {
    const runs = await Promise.all(COMMANDS.map((c) => runCli(['help', c])));
    for (const [i, r] of runs.entries()) {
      expect(r.code, `help ${COMMANDS[i]}`).toBe(0);
      expect(r.stdout).toMatch(
        COMMANDS[i] === 'help' ? /^Usage: supervise \[options\]/ : new RegExp(`^Usage: supervise ${COMMANDS[i]} `),
      );
    }
    const systemd = runs[COMMANDS.indexOf('systemd')]!.stdout;
    for (const flag of [
      '--name <name>',
      '--user <user>',
      '--install',
      '--uninstall',
      '--user-unit',
      '--unit-dir <dir>',
    ])
      expect(systemd).toContain(flag);
    const main = await runCli(['--help']);
    // commander wraps the descriptions at 80 columns: read the entry as one line.
    const entry = /^ {2}systemd \[options\] \[script\] \[args\.\.\.\][\s\S]*?(?=\n {2}\S)/m.exec(main.stdout)?.[0];
    expect(entry?.replace(/\s+/g, ' ')).toMatch(/print a systemd unit .*\(--name, --user\); --install/);
    const unknown = await runCli(['help', 'satus']);
    expect([unknown.code, unknown.stderr]).toEqual([2, 'supervise: help: no command "satus" (did you mean status?)\n']);
  });

  it('a mistyped command or option: one line with a suggestion, exit 2', async () => {
    const dir = tempDir('supervise-typo-');
    const cmd = await runCli(['satus'], { cwd: dir });
    expect([cmd.code, cmd.stderr]).toEqual([
      2,
      'supervise: unknown command "satus" (did you mean status?); a script of that name would be ./satus\n',
    ]);
    // A file of that name is the script, as before.
    writeFileSync(path.join(dir, 'satus'), '');
    expect((await runCli(['systemd', 'satus'], { cwd: dir })).code).toBe(0);
    const opt = await runCli(['app.js', '--wrokers', '2'], { cwd: dir });
    expect([opt.code, opt.stderr]).toEqual([2, "supervise: unknown option '--wrokers' (did you mean --workers?)\n"]);
    const sub = await runCli(['status', '--jsn'], { cwd: dir });
    expect([sub.code, sub.stderr]).toEqual([2, "supervise: unknown option '--jsn' (did you mean --json?)\n"]);
  });

  it('a syntax error in a JS config file: file:line:column in one line, ESM and CJS', async () => {
    const dir = tempDir('supervise-syntax-');
    writeFileSync(path.join(dir, 'supervise.config.mjs'), 'export default {\n  script: "app.js"\n  workers: 2,\n};\n');
    const esm = await runCli([], { cwd: dir });
    expect([esm.code, esm.stderr]).toEqual([
      2,
      "supervise: supervise.config.mjs:3:3: syntax error: Unexpected identifier 'workers'\n",
    ]);
    writeFileSync(path.join(dir, 'pm2.config.js'), "module.exports = {\n  apps: [{ script: 'app.js',, }],\n};\n");
    const cjs = await runCli(['--config', 'pm2.config.js'], { cwd: dir });
    expect(cjs.code).toBe(2);
    expect(cjs.stderr).toMatch(/^supervise: pm2\.config\.js:2:29: syntax error: Unexpected token ','\n$/);
  });
});
