import { COMMAND_NAMES } from './command-names.js';
import { isRun } from './plain-run.js';
import { parseAndRun, runProgram } from './run.js';

/**
 * The entry of the master's bundle (dist/bundle/master.cjs): a run (plain-run.ts), and nothing else. Without
 * the commands' code, which the full CLI (main.ts) has, the master's heap is smaller for its whole life
 * (scripts/bundle.mjs). The bin loads it for a run only; arguments that name a command all the same (a bin
 * built with other names than this bundle) get 'not-a-run', before anything else, and the bin then loads the
 * full CLI.
 */
export async function main(argv: string[]): Promise<'not-a-run' | undefined> {
  if (!isRun(argv.slice(2), COMMAND_NAMES)) return 'not-a-run';
  await parseAndRun(runProgram(), argv);
  return undefined;
}
