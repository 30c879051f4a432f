import { execFile } from 'node:child_process';
import path from 'node:path';

/**
 * Where a JS config file's syntax error is. An ESM import's SyntaxError carries no position at all, and a CJS one
 * only in its stack's first lines; `node --check` prints both kinds the same way (`file:line`, the source line, a
 * caret under the column), and runs nothing of the file.
 */

const CHECK_TIMEOUT_MS = 5_000;

/** `name.js:3:14`, or null when node does not say (or takes too long to). */
export function syntaxPosition(file: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--check', file],
      { timeout: CHECK_TIMEOUT_MS, maxBuffer: 64 * 1024 },
      (_err, _stdout, stderr) => resolve(parseCheck(String(stderr), file)),
    );
  });
}

export function parseCheck(stderr: string, file: string): string | null {
  const lines = stderr.split('\n');
  const at = lines.findIndex((l) => /:\d+$/.test(l) && l.replace(/^file:\/\//, '').startsWith(file));
  if (at === -1) return null;
  const line = /:(\d+)$/.exec(lines[at]!)![1];
  const caret = lines[at + 2]?.indexOf('^') ?? -1;
  return `${path.basename(file)}:${line}${caret >= 0 ? `:${caret + 1}` : ''}`;
}
