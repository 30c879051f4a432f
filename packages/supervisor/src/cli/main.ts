import { EXIT } from '../errors.js';
import { closest } from './suggest.js';
import { addCommands } from './commands.js';
import { COMMAND_NAMES } from './command-names.js';
import { fail } from './program.js';
import { exitOn, parseAndRun, runProgram } from './run.js';

/** The commands that take a run's arguments (`supervise systemd app.js -w 4`): parsed by their own modules. */
const WITH_RUN_ARGS: Record<string, () => Promise<(argv: string[]) => Promise<void>>> = {
  systemd: async () => (await import('./systemd-command.js')).printSystemdUnits,
  config: async () => (await import('./config-command.js')).showConfig,
};

/**
 * The entry of the full CLI (dist/bundle/cli.cjs): every command, and a run too, for tsc's dist/cli.js, which
 * knows no command names (plain-run.ts). A run from the bin has its own entry, master-main.ts.
 */
export async function main(argv: string[]): Promise<void> {
  const own = Object.hasOwn(WITH_RUN_ARGS, argv[2] ?? '') ? WITH_RUN_ARGS[argv[2]!] : undefined;
  // Their --help is commander's, from the commands registered for it (commands.ts).
  if (own && !argv.slice(3).some((a) => a === '-h' || a === '--help')) {
    try {
      await (await own())(argv.slice(3));
    } catch (err) {
      exitOn(err);
    }
    return;
  }
  const program = runProgram();
  // After the settings runProgram made: a subcommand copies them when it is created.
  addCommands(program);
  // `help help` is the main help; `help satus` one line with the command meant, not the main help.
  if (argv[2] === 'help' && argv[3] !== undefined) {
    if (argv[3] === 'help') argv = argv.slice(0, 3);
    else if (!COMMAND_NAMES.has(argv[3])) {
      const meant = closest(argv[3], [...COMMAND_NAMES]);
      fail(`help: no command "${argv[3]}"${meant ? ` (did you mean ${meant}?)` : ''}`, EXIT.usage);
    }
  }
  await parseAndRun(program, argv);
}
