import { readFileSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ecosystemAppNames } from '../config/config-file.js';
import { isEcosystemScript } from '../config/ecosystem-detect.js';
import { logicalCwd } from '../config/logical-cwd.js';
import { SuperviseError } from '../errors.js';
import { writeOut } from '../observe/stdio.js';
import { renderUnit, unitName } from './systemd-unit.js';
import { buildProgram, isFile, prepare } from './program.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** The name of the project in `dir`: its package.json's name (without a scope), else the directory's name. */
function projectName(dir: string): string {
  try {
    const name = (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name;
    if (typeof name === 'string' && name) return name.replace(/^@[^/]+\//, '');
  } catch {
    // no package.json, or not JSON
  }
  return path.basename(dir);
}

/** A word as a POSIX shell reads it back. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/** The package's bin, which the unit runs. */
const BIN = (): string => fileURLToPath(new URL('../cli.cjs', import.meta.url));

/**
 * argv[1] when it is this CLI under another name (a symlink such as `current/node_modules/.bin/supervise`), or
 * dist/cli.js, the entry older scripts name, which runs the same.
 */
function invokedCli(): string | null {
  const given = process.argv[1];
  if (!given || !path.isAbsolute(given)) return null;
  try {
    const real = realpathSync(given);
    return real === realpathSync(BIN()) || real === realpathSync(fileURLToPath(new URL('../cli.js', import.meta.url)))
      ? given
      : null;
  } catch {
    return null;
  }
}

/**
 * `supervise systemd [--name NAME] [--user USER] <the command's arguments>`: the unit on stdout, how to install it
 * on stderr; with --install (or --uninstall) systemd-install.ts does it. The arguments go through the same parsing as a run, so a bad one fails here, not under systemd.
 */
export async function printSystemdUnits(argv: string[]): Promise<void> {
  const rest = [...argv];
  const take = (flag: string): string | undefined => {
    const i = rest.indexOf(flag);
    if (i === -1) return undefined;
    const value = rest[i + 1];
    if (value === undefined || value.startsWith('-'))
      throw new SuperviseError('ERR_USAGE', `systemd: ${flag} needs a value`);
    rest.splice(i, 2);
    return value;
  };
  const flag = (f: string): boolean => {
    const i = rest.indexOf(f);
    if (i !== -1) rest.splice(i, 1);
    return i !== -1;
  };
  const name = take('--name');
  const user = take('--user') ?? os.userInfo().username;
  const [install, uninstall] = [flag('--install'), flag('--uninstall')];
  const target = { userUnit: flag('--user-unit'), unitDir: take('--unit-dir') };
  if (install && uninstall) throw new SuperviseError('ERR_USAGE', 'systemd: --install or --uninstall, not both');
  const { installUnits, uninstallUnits } = await import('./systemd-install.js');
  // `--uninstall --name app` needs nothing else: the unit is known by its name.
  if (uninstall && name !== undefined && rest.length === 0) {
    writeOut(1, await uninstallUnits([unitName(name)], target));
    return;
  }
  const program = buildProgram(async (script, args, cmd) => {
    const picked = cmd.opts<{ app?: string }>().app;
    // An ecosystem file with several apps and none picked: one unit each (one master per app).
    const file =
      script !== undefined && isEcosystemScript(path.resolve(logicalCwd(), script))
        ? path.resolve(logicalCwd(), script)
        : cmd.opts<{ config?: string }>().config;
    const names =
      picked === undefined && file !== undefined && isFile(path.resolve(logicalCwd(), file))
        ? await ecosystemAppNames(path.resolve(logicalCwd(), file))
        : [];
    const apps = names.length > 1 ? names : [undefined];
    // The CLI as it was invoked (`/srv/app/current/node_modules/.bin/supervise`), not the release it resolves to,
    // which a later deploy deletes; and the logical directory, since systemd gives the service no $PWD.
    const cli = invokedCli() ?? BIN();
    const givenCwd = rest.some((arg) => arg === '--cwd' || arg.startsWith('--cwd='));
    const cwdArgs = givenCwd || logicalCwd() === process.cwd() ? [] : ['--cwd', logicalCwd()];
    const units = [];
    for (const a of apps) {
      const { options, config } = await prepare(script, args, cmd, a);
      const environment = Object.fromEntries(
        ['PORT', 'HOST', 'NODE_ENV']
          .filter((k) => process.env[k] && options.env[k] === undefined)
          .map((k) => [k, process.env[k]!]),
      );
      const appName = config?.app ?? null;
      const unit = unitName(name && apps.length === 1 ? name : (appName ?? projectName(logicalCwd())));
      const text = renderUnit({
        name: unit,
        description: `${appName ?? path.basename(options.script)} under supervise (${options.workers} workers)`,
        user,
        workingDirectory: logicalCwd(),
        execStart: [process.execPath, cli, ...rest, ...cwdArgs, ...(a !== undefined ? ['--app', a] : [])],
        options,
        environment,
        version: pkg.version,
        userUnit: target.userUnit,
      });
      units.push({ unit, text });
    }
    if (install || uninstall) {
      writeOut(
        1,
        install
          ? await installUnits(units, target)
          : await uninstallUnits(
              units.map((u) => u.unit),
              target,
            ),
      );
      return;
    }
    writeOut(
      1,
      units
        .map((u) => (units.length > 1 ? `# ---- /etc/systemd/system/${u.unit}.service ----\n${u.text}` : u.text))
        .join('\n'),
    );
    const unitNames = units.map((u) => u.unit);
    writeOut(
      2,
      `\nTo install and start ${unitNames.length > 1 ? 'them (save each unit to its file)' : 'it'}:\n` +
        (unitNames.length === 1
          ? `  supervise systemd ${argv.map(shellWord).join(' ')} | sudo tee /etc/systemd/system/${unitNames[0]}.service\n`
          : '') +
        `  sudo systemctl daemon-reload && sudo systemctl enable --now ${unitNames.join(' ')}\n` +
        `Then: systemctl reload ${unitNames[0]} (rolling restart), journalctl -u ${unitNames[0]} -f (logs), supervise status (from ${logicalCwd()}).\n`,
    );
  });
  program.exitOverride();
  program.configureOutput({
    outputError: (s, write) =>
      write(
        `supervise: systemd: ${s
          .replace(/^error: /, '')
          .trim()
          .replace(/\s*\n\s*\(Did you mean/, ' (did you mean')}\n`,
      ),
  });
  await program.parseAsync(['node', 'supervise', ...rest]);
}
