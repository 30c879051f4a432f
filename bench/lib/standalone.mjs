// One part of pnpm bench run on its own (`node accept.mjs`, `node longlived.mjs`): settings from flags and the
// environment, the cleanup on Ctrl+C, a log directory, the part's table on stdout, exit 1 if a process outlived it.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { readConfigOrExit } from './config.mjs';
import { cleanupAll, installCleanup } from './procs.mjs';

/** Runs `run(cfg, { logDir, say })` when `moduleUrl` is the script node was started with. */
export async function runStandalone(moduleUrl, defaults, name, run) {
  if (process.argv[1] !== fileURLToPath(moduleUrl)) return;
  const cfg = readConfigOrExit('BENCH', defaults);
  installCleanup();
  const logDir = mkdtempSync(join(os.tmpdir(), `supervise-bench-${name}-`));
  const say = (m) => process.stderr.write(`[bench] ${m}\n`);
  say(`logs in ${logDir}`);
  const { text } = await run(cfg, { logDir, say });
  process.stdout.write(`${text}\n`);
  const left = await cleanupAll('end of run');
  if (left.length) process.exitCode = 1;
}
