import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What a worker that died at boot said about why, in one line: its first error line and the app's own
 * `file:line`, read from what node prints for an uncaught exception:
 *
 *   /srv/app/app.js:4                      <- where (a syntax error has no stack frame of the app)
 *   throw new Error('boom: ...');
 *   ^
 *
 *   Error: boom: DATABASE_URL is not set   <- the error line
 *       at Object.<anonymous> (/srv/app/app.js:4:7)   <- where, when the header is missing
 *
 * Pure: lines in, text out.
 */
export interface CrashCause {
  /** `Error: boom: DATABASE_URL is not set`, or null when nothing looks like an error. */
  error: string | null;
  /** `app.js:4`, relative to the working directory when inside it, or null. */
  where: string | null;
}

const ERROR_LINE = /^(?:Uncaught )?(?:[A-Z]\w*)?(?:Error|Exception)(?: \[[A-Z0-9_]+\])?: .+|^\[?ERR_[A-Z0-9_]+\]?:? .+/;
const HEADER = /^((?:file:\/\/)?\/[^:\s]+|[A-Za-z]:\\[^:]+):(\d+)$/;
const FRAME = /^\s+at (?:.*? \()?((?:file:\/\/)?\/[^:\s)]+):(\d+):\d+\)?$/;

function relative(file: string, cwd: string): string {
  const abs = file.startsWith('file://') ? fileURLToPath(file) : file;
  const rel = path.relative(cwd, abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs;
}

/** The app's frames, not node's nor a dependency's. */
function isAppFile(file: string): boolean {
  return !file.includes('/node_modules/') && !file.startsWith('node:');
}

export function crashCause(lines: readonly string[], cwd: string): CrashCause {
  let error: string | null = null;
  let errorAt = -1;
  for (const [i, line] of lines.entries()) {
    if (ERROR_LINE.test(line.trim())) {
      error = line.trim();
      errorAt = i;
      break;
    }
  }
  let where: string | null = null;
  // The header line before the error (node prints it for a throw at the top level and for syntax errors).
  for (let i = errorAt >= 0 ? errorAt - 1 : lines.length - 1; i >= 0 && !where; i--) {
    const m = HEADER.exec(lines[i]!.trim());
    if (m && isAppFile(m[1]!)) where = `${relative(m[1]!, cwd)}:${m[2]}`;
  }
  // Else the first stack frame in the app's own files.
  for (let i = Math.max(errorAt, 0); i < lines.length && !where; i++) {
    const m = FRAME.exec(lines[i]!);
    if (m && isAppFile(m[1]!)) where = `${relative(m[1]!, cwd)}:${m[2]}`;
  }
  return { error: error && error.length > 300 ? `${error.slice(0, 297)}...` : error, where };
}

/** `Error: boom (app.js:4)`, `Error: boom`, or null. */
export function describeCause(lines: readonly string[], cwd: string): string | null {
  const { error, where } = crashCause(lines, cwd);
  if (!error) return where ? `at ${where}` : null;
  return where ? `${error} (${where})` : error;
}

/** A script that needs a TypeScript loader node may not have: one line on what to do. */
export function typescriptHint(script: string, nodeArgs: readonly string[], lines: readonly string[]): string | null {
  if (!/\.[cm]?tsx?$/.test(script)) return null;
  if (nodeArgs.some((a) => /tsx|ts-node|--experimental-strip-types|--experimental-transform-types/.test(a)))
    return null;
  const text = lines.join('\n');
  if (
    !/ERR_UNKNOWN_FILE_EXTENSION|SyntaxError|Unexpected token|Missing initializer|ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING/.test(
      text,
    )
  ) {
    return null;
  }
  return `${path.basename(script)} is TypeScript and node ran it without a loader: add --node-args "--import tsx" (npm i -D tsx), or compile it first`;
}
