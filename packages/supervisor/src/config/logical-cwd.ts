import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The working directory as the user named it. The kernel keeps only the physical directory (`process.cwd()`:
 * `/srv/app/releases/41`); a shell keeps the path that was typed in `$PWD` (`/srv/app/current`, what `pwd -L`
 * prints). A deploy switches `current` and expects the next workers there, so every path the master forks
 * into is kept logical and resolved by the kernel at each fork. `$PWD` counts only when it names the very
 * directory we are in (same device and inode, as POSIX `pwd -L` checks): a stale one, inherited from a parent
 * that changed directory, is ignored.
 */
export function logicalCwd(env: NodeJS.ProcessEnv = process.env): string {
  const physical = process.cwd();
  const pwd = env.PWD;
  if (!pwd || !path.isAbsolute(pwd) || pwd === physical) return physical;
  // `.` and `..` segments are not a logical path `pwd -L` would print.
  if (path.normalize(pwd) !== pwd) return physical;
  try {
    const a = statSync(pwd);
    const b = statSync(physical);
    return a.dev === b.dev && a.ino === b.ino ? pwd.replace(/(.)\/$/, '$1') : physical;
  } catch {
    return physical;
  }
}

/** What a logical path resolves to now (the release behind `current`); null once it no longer exists. */
export function resolvedNow(dir: string): string | null {
  try {
    return realpathSync(dir);
  } catch {
    return null;
  }
}
