#!/usr/bin/env node
// The bin (built to dist/cli.cjs; tsc's dist/cli.js runs the same for older scripts and units that name it). It
// sets its V8 flags (code-cache.ts's BIN_V8_FLAGS says which and why) before a bundle is compiled, and for a run
// after the node modules the master's start needs (RUN_BUILTINS says why). Then it loads the CLI from one
// CommonJS file (scripts/bundle.mjs says why; `pnpm build` writes them), with the code cache the build wrote
// beside it (code-cache.ts): the master's own bundle for a run, the full CLI otherwise.
import { fileURLToPath } from 'node:url';

import { loadBundle, loadRunBuiltins, setBinFlags } from './code-cache.js';
import { BUILT_COMMAND_NAMES, isRun, VERSION_FLAGS } from './cli/plain-run.js';

const args = process.argv.slice(2);
const aRun = BUILT_COMMAND_NAMES !== undefined && isRun(args, BUILT_COMMAND_NAMES);
// --version goes through a run's program, and starts nothing.
if (aRun && !args.some((a) => VERSION_FLAGS.includes(a))) loadRunBuiltins();
setBinFlags();
const bundle = (name: string): unknown =>
  loadBundle(fileURLToPath(new URL(`./bundle/${name}.cjs`, import.meta.url))).exports;

async function run(argv: string[]): Promise<void> {
  // A run: the master's own bundle. It answers 'not-a-run' to a command its names have and the bin's had not.
  if (aRun) {
    const master = bundle('master') as typeof import('./cli/master-main.js');
    if ((await master.main(argv)) !== 'not-a-run') return;
  }
  const cli = bundle('cli') as typeof import('./cli/main.js');
  await cli.main(argv);
}

// No top-level await: the bin is CommonJS. A rejection is unhandled, and node reports it as it did an await's.
void run(process.argv);
