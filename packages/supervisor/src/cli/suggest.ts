import { existsSync } from 'node:fs';
import path from 'node:path';

import { distance } from '../config/config-file.js';
import { SuperviseError } from '../errors.js';

/**
 * `supervise satus` took the word for a script and said `script not found: /srv/app/satus`. A word that names
 * no file, has no path or extension, and is one or two letters away from a command is a mistyped command.
 */

/** The candidate nearest to `word`, if near enough to be what was meant. */
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== null && bestD > 0 && bestD <= Math.min(2, Math.max(1, Math.floor(word.length / 3))) ? best : null;
}

export function mistypedCommand(script: string, commands: readonly string[], cwd: string): SuperviseError | null {
  if (/[./\\]/.test(script) || existsSync(path.resolve(cwd, script))) return null;
  const meant = closest(script, commands);
  if (meant === null) return null;
  return new SuperviseError(
    'ERR_USAGE',
    `unknown command "${script}" (did you mean ${meant}?); a script of that name would be ./${script}`,
  );
}
