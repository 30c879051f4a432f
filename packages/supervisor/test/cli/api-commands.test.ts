import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';

import { fileURLToPath } from 'node:url';

import { COMMAND_NAMES } from '../../src/cli/command-names.js';
import { isRun } from '../../src/cli/plain-run.js';
import { main as masterMain } from '../../src/cli/master-main.js';
import { addCommands } from '../../src/cli/commands.js';
import { buildProgram } from '../../src/cli/program.js';
import { CONTROL_API, CONTROL_COMMANDS } from '../../src/control/api.js';
import type { Fields } from '../../src/control/fields.js';

const program = buildProgram(async () => {});
addCommands(program);
const sub = (name: string): Command | undefined => program.commands.find((c) => c.name() === name);

describe('the CLI is built from the control API', () => {
  it('offers every command of the API, with its summary, arguments, flags and the common options', () => {
    for (const name of CONTROL_COMMANDS) {
      const entry = CONTROL_API[name];
      const command = sub(name);
      expect(command, name).toBeDefined();
      expect(command?.description()).toBe(entry.summary);
      if (entry.cli === null) continue;
      const fields: Fields = entry.fields;
      const args = entry.cli.args ?? [];
      expect(command?.registeredArguments.map((a) => a.description)).toEqual(args.map(([f]) => fields[f]?.doc));
      const flags = command?.options.map((o) => o.flags) ?? [];
      for (const text of Object.values(entry.cli.flags ?? {})) expect(flags).toContain(text);
      expect(flags).toEqual(expect.arrayContaining(['--control <path>', '--app <name>', '--json']));
    }
  });

  it('every field has a doc and a usage, and every argument or flag names a field of its command', () => {
    for (const name of CONTROL_COMMANDS) {
      const entry = CONTROL_API[name];
      const fields: Fields = entry.fields;
      for (const field of Object.values(fields)) {
        expect(field.doc.length, name).toBeGreaterThan(0);
        expect(field.usage.length, name).toBeGreaterThan(0);
      }
      if (entry.cli === null) continue;
      for (const [field] of entry.cli.args ?? []) expect(Object.keys(fields), name).toContain(field);
      for (const field of Object.keys(entry.cli.flags ?? {})) expect(Object.keys(fields), name).toContain(field);
    }
  });
});

describe("a run's program", () => {
  const file = fileURLToPath(import.meta.url);

  it('COMMAND_NAMES names every command the full program registers', () => {
    expect(new Set([...program.commands.map((c) => c.name()), 'help'])).toEqual(COMMAND_NAMES);
  });

  it('is built without the subcommands, which the full CLI adds, with the same options', () => {
    const bare = buildProgram(async () => {});
    expect(bare.commands).toEqual([]);
    expect(bare.options.map((o) => o.flags)).toEqual(program.options.map((o) => o.flags));
  });

  it('is a run without a word that names a command, and without help', () => {
    const run = (args: string[]) => isRun(args, COMMAND_NAMES);
    expect(run([file, '-w', '4'])).toBe(true);
    expect(run(['-w', '4', file])).toBe(true);
    // A config file names the script; a mistyped command is suggested by the run's own checks.
    expect(run([])).toBe(true);
    expect(run(['-w', '4'])).toBe(true);
    expect(run(['stauts'])).toBe(true);
    expect(run([file, '--help'])).toBe(false);
    expect(run([file, '-h'])).toBe(false);
    expect(run(['status', '--control', file])).toBe(false);
    expect(run(['help', file])).toBe(false);
    expect(run(['systemd', file])).toBe(false);
  });

  it("the master's entry answers that a command is no run, before it does anything", async () => {
    expect(await masterMain(['node', 'supervise', 'systemd', file])).toBe('not-a-run');
    expect(await masterMain(['node', 'supervise', file, '--help'])).toBe('not-a-run');
  });
});
