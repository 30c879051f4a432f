import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';

import { fileURLToPath } from 'node:url';

import { COMMAND_NAMES, isPlainRun } from '../../src/cli/command-names.js';
import { addCommands } from '../../src/cli/commands.js';
import { buildProgram, commandNames } from '../../src/cli/program.js';
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
    expect(new Set(commandNames(program))).toEqual(COMMAND_NAMES);
  });

  it('is built without the subcommands, which the full CLI adds, with the same options', () => {
    const bare = buildProgram(async () => {});
    expect(bare.commands).toEqual([]);
    expect(bare.options.map((o) => o.flags)).toEqual(program.options.map((o) => o.flags));
  });

  it('is a plain run only with a file and without a command, help or a word that is no file', () => {
    expect(isPlainRun([file, '-w', '4'])).toBe(true);
    expect(isPlainRun(['-w', '4', file])).toBe(true);
    expect(isPlainRun([file, '--help'])).toBe(false);
    expect(isPlainRun([file, '-h'])).toBe(false);
    expect(isPlainRun(['status', '--control', file])).toBe(false);
    expect(isPlainRun(['help', file])).toBe(false);
    // A mistyped command is suggested from the registered ones.
    expect(isPlainRun(['stauts'])).toBe(false);
    expect(isPlainRun([])).toBe(false);
  });
});
