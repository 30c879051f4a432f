import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';

import { SuperviseError } from '../errors.js';
import { isProcessAlive } from './process-alive.js';

function readPid(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Writes the master's pid (for `kill -HUP $(cat file)`), refusing a file that names another live process, the
 * way gunicorn does. Written whole through a rename, so a reader never sees it half-written.
 * Returns the function that removes it, which leaves a file that another master has since taken alone.
 */
export function writePidFile(file: string): () => void {
  const other = readPid(file);
  if (other !== null && other !== process.pid && isProcessAlive(other)) {
    throw new SuperviseError(
      'ERR_USAGE',
      `--pid-file: ${file} names process ${other}, which is running: is another master running?`,
    );
  }
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${process.pid}\n`, { mode: 0o644 });
    renameSync(tmp, file);
  } catch (err) {
    throw new SuperviseError(
      'ERR_USAGE',
      `--pid-file: cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  return () => {
    if (readPid(file) !== process.pid) return;
    try {
      unlinkSync(file);
    } catch {
      // already gone
    }
  };
}
