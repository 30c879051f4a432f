import { isPlainRun } from './command-names.js';
import { parseAndRun, runProgram } from './run.js';

/**
 * The entry of the master's bundle (dist/bundle/master.cjs): a run of a file, and nothing else. The bin loads
 * it when the arguments look like a run (plain-run.ts); without the commands' code, which the full CLI
 * (main.ts) has, the master's heap is smaller for its whole life (scripts/bundle.mjs). Arguments that name a
 * command after all (`supervise systemd app.js`) get 'not-a-run', before anything else, and the bin then
 * loads the full CLI.
 */
export async function main(argv: string[]): Promise<'not-a-run' | undefined> {
  if (!isPlainRun(argv.slice(2))) return 'not-a-run';
  await parseAndRun(runProgram(), argv);
  return undefined;
}
