import { closeSync, openSync, readSync, statSync } from 'node:fs';

import { isEcosystemFile } from './config-file.js';

/**
 * A PM2 ecosystem file given as the script (`supervise eco2.config.js`) is the configuration, whatever its name:
 * run as the app, it would export its object, listen nowhere, and time out at readiness minutes later. Its text is
 * read, never run: `module.exports = { apps: ... }`, `export default { apps: ... }`, or JSON with an `apps` list.
 */

/** Enough for any ecosystem file; an app's bundle is not read whole to find out it is not one. */
const MAX_READ = 256 * 1024;

/** `module.exports = {` or `export default {`, then `apps` as a key of that object (before any nested one). */
const JS_FORM =
  /(?:module\.exports\s*=|exports\.default\s*=|export\s+default)\s*\{[^{}]*?(?:^|[\s,{'"])apps['"]?\s*[:,}]/m;

function head(file: string): string | null {
  let fd: number | undefined;
  try {
    if (!statSync(file).isFile()) return null;
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(MAX_READ);
    const n = readSync(fd, buf, 0, MAX_READ, 0);
    return buf.subarray(0, n).toString('utf8');
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Whether `file` (an absolute path) is a PM2 ecosystem file: by its conventional name, else by its content. */
export function isEcosystemScript(file: string): boolean {
  if (isEcosystemFile(file)) return true;
  if (!/\.(c|m)?js$|\.json$/.test(file)) return false;
  const text = head(file);
  if (text === null) return false;
  if (file.endsWith('.json')) {
    try {
      const value = JSON.parse(text) as unknown;
      return typeof value === 'object' && value !== null && Array.isArray((value as { apps?: unknown }).apps);
    } catch {
      return false;
    }
  }
  return JS_FORM.test(text);
}
