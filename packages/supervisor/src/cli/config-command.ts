import path from 'node:path';

import { findConfigFile } from '../config/config-file.js';
import { originsOf, optionsInEffect, type Origin } from '../config/effective.js';
import type { ConfigReply } from '../control/reply.js';
import { SuperviseError } from '../errors.js';
import { writeOut } from '../observe/stdio.js';
import { request } from './control-actions.js';
import { buildProgram, prepare } from './program.js';
import { formatTable } from './views/status-table.js';

/**
 * `supervise config`: the options in effect and where each came from. Without arguments it asks the running
 * master (found as `supervise status` finds it, or with --control): only the master knows what a scale or a
 * reload has changed since its start. With a script or options (`supervise config app.js -w 4`), or when no
 * master runs but a config file is here, it computes them without starting anything: what `supervise` with
 * those arguments would run with, as `supervise systemd` does.
 */

const FROM: Record<Origin, string> = {
  flag: 'command line',
  file: 'config file',
  'flag+file': 'config file + command line',
  default: 'default',
  scale: 'supervise scale',
};

function shown(value: unknown): string {
  const text =
    value === null || value === undefined
      ? '-'
      : Array.isArray(value)
        ? value.map(String).join(' ') || '-'
        : typeof value === 'object'
          ? JSON.stringify(value)
          : String(value);
  return text.length > 70 ? `${text.slice(0, 67)}...` : text;
}

function print(reply: ConfigReply, json: boolean): void {
  if (json) {
    writeOut(1, `${JSON.stringify(reply, null, 2)}\n`);
    return;
  }
  const who = reply.master
    ? `master ${reply.master.pid} in ${reply.master.cwd}`
    : 'no master asked: what `supervise` with these arguments would run with, here';
  const file = reply.file ? `, config file ${reply.file}${reply.app ? ` (app ${reply.app})` : ''}` : '';
  const rows = [['OPTION', 'VALUE', 'FROM'], ...reply.options.map((o) => [o.flag, shown(o.value), FROM[o.origin]])];
  const ignored = reply.ignored.length
    ? `\nignored in ${path.basename(reply.file ?? '')}:\n${reply.ignored.map((i) => `  ${i}`).join('\n')}\n`
    : '';
  writeOut(1, `${who}${file}\n${formatTable(rows)}\n${ignored}`);
}

/** The options `supervise <argv>` would run with, computed here. */
async function local(argv: string[], json: boolean): Promise<void> {
  const program = buildProgram(async (script, args, cmd) => {
    const { options, configFile, flags, config } = await prepare(script, args, cmd);
    const ignored = (config?.notes ?? []).filter((n) => n.startsWith('ignored ')).map((n) => n.slice(8));
    const effective = {
      file: configFile,
      app: config?.app ?? null,
      ignored,
      origins: originsOf(flags, config?.raw ?? {}),
    };
    const { file, app } = effective;
    print({ ok: true, master: null, file, app, ignored, options: optionsInEffect(options, effective, false) }, json);
  });
  program.exitOverride();
  program.configureOutput({
    outputError: (s, write) => write(`supervise: config: ${s.replace(/^error: /, '').trim()}\n`),
  });
  await program.parseAsync(['node', 'supervise', ...argv]);
}

export async function showConfig(argv: string[]): Promise<void> {
  const rest = argv.filter((a) => a !== '--json');
  const json = rest.length !== argv.length;
  const at = rest.indexOf('--control');
  if (at !== -1) {
    const control = rest[at + 1];
    if (control === undefined) throw new SuperviseError('ERR_USAGE', 'config: --control needs a path');
    const [reply] = await request({ control }, { cmd: 'config' });
    return print(reply, json);
  }
  // `--app api` alone names a master (several share this directory), not a run's app.
  const app = rest.length === 2 && rest[0] === '--app' ? rest[1] : undefined;
  if (rest.length > 0 && app === undefined) return local(rest, json);
  try {
    const [reply] = await request({ app }, { cmd: 'config' });
    print(reply, json);
  } catch (err) {
    // No master runs from here: the config file here says what one would run with.
    if (
      err instanceof SuperviseError &&
      err.code === 'ERR_CONTROL' &&
      /no supervise master/.test(err.message) &&
      findConfigFile(undefined)
    )
      return local([], json);
    throw err;
  }
}
