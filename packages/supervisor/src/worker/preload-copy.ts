import { copyFileSync, type Dirent, existsSync, mkdirSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { controlDir, ensurePrivateDir } from '../control/paths.js';
import { isProcessAlive } from '../control/process-alive.js';
import { nodeModule } from '../node-module.js';

/**
 * The drain engine the master preloads into every worker, copied to a directory of its own for as long as the
 * master runs. Installed in a release's node_modules, the engine would vanish with the release: a deploy that
 * deletes old releases would make every later fork fail (`Cannot find module .../preload.js`). The copy is the
 * engine's compiled files only (no dependencies), in the user's private control directory, named after the
 * master's pid and removed at its exit; copies left by masters that were SIGKILLed are removed at the next start.
 */

let copied: string | null = null;

const PREFIX = 'preload-';

/**
 * rmSync(dir, { recursive: true, force: true }), without node's rimraf module, which would otherwise stay loaded
 * in the master for its whole life for one file removed at its start and one at its exit.
 */
function removeTree(dir: string): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const at = path.join(dir, entry.name);
    if (entry.isDirectory()) removeTree(at);
    else
      try {
        unlinkSync(at);
      } catch {
        // Gone already, or not ours to remove: the directory then stays, as rmSync's force would leave it.
      }
  }
  try {
    rmdirSync(dir);
  } catch {
    // As above.
  }
}

function sweepStale(dir: string): void {
  for (const name of readdirSync(dir)) {
    const m = /^preload-(\d+)$/.exec(name);
    if (m && Number(m[1]) !== process.pid && !isProcessAlive(Number(m[1]))) removeTree(path.join(dir, name));
  }
}

/** The compiled files only (no maps, no types): what a worker loads. */
function copyJs(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    if (entry.isDirectory()) copyJs(src, path.join(to, entry.name));
    else if (entry.name.endsWith('.js')) copyFileSync(src, path.join(to, entry.name));
  }
}

/**
 * The engine in one file (scripts/bundle.mjs writes it beside the CLI's bundle): a worker compiles one file
 * rather than a dozen, and the master copies one. Absent when the package was built by tsc alone.
 */
function bundledEngine(): string | null {
  const file = fileURLToPath(new URL('../bundle/worker-preload.cjs', import.meta.url));
  return existsSync(file) ? file : null;
}

/** The path to `--require` in every worker: the private copy, or the installed file when it cannot be copied. */
export function preloadPath(): string {
  if (copied) return copied;
  const bundled = bundledEngine();
  const installed =
    bundled ??
    nodeModule()
      .createRequire(import.meta.url)
      .resolve('@supervise/worker-sdk/preload');
  try {
    const dir = controlDir();
    ensurePrivateDir(dir);
    sweepStale(dir);
    const own = path.join(dir, `${PREFIX}${process.pid}`);
    removeTree(own);
    if (bundled) {
      mkdirSync(own, { recursive: true });
      copyFileSync(bundled, path.join(own, path.basename(bundled)));
      copied = path.join(own, path.basename(bundled));
    } else {
      // The package's own layout (worker-sdk/dist/...): stack traces and anything that looks for the engine by
      // its path see the same names as in node_modules.
      const pkg = path.dirname(path.dirname(installed));
      const copy = path.join(own, 'worker-sdk');
      copyJs(path.dirname(installed), path.join(copy, 'dist'));
      // package.json too: its "type" decides how node reads the .js files, wherever they sit.
      copyFileSync(path.join(pkg, 'package.json'), path.join(copy, 'package.json'));
      copied = path.join(copy, 'dist', path.basename(installed));
    }
    process.once('exit', () => removeTree(own));
  } catch {
    // A read-only or foreign temp directory: the installed engine works as long as its release stays.
    return installed;
  }
  return copied;
}
