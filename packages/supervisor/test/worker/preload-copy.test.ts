import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(path.join(os.tmpdir(), 'supervise-preload-copy-'));
const saved = process.env.XDG_RUNTIME_DIR;
afterAll(() => {
  if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
  else process.env.XDG_RUNTIME_DIR = saved;
  rmSync(root, { recursive: true, force: true });
});

/** A copy as a master leaves it: the engine's files in a tree under preload-<pid>. */
function leftCopy(dir: string, pid: number): string {
  const copy = path.join(dir, `preload-${pid}`);
  mkdirSync(path.join(copy, 'worker-sdk', 'dist', 'engine'), { recursive: true });
  writeFileSync(path.join(copy, 'worker-sdk', 'package.json'), '{}');
  writeFileSync(path.join(copy, 'worker-sdk', 'dist', 'engine', 'drain.js'), '');
  return copy;
}

describe('preloadPath', () => {
  it('copies the engine under its own pid and removes the copies of masters that are gone, not of live ones', async () => {
    process.env.XDG_RUNTIME_DIR = root;
    const dir = path.join(root, 'supervise');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    const gone = leftCopy(dir, dead);
    const alive = leftCopy(dir, process.ppid);
    const { preloadPath } = await import('../../src/worker/preload-copy.js');
    const copy = preloadPath();
    expect(copy.startsWith(path.join(dir, `preload-${process.pid}`) + path.sep)).toBe(true);
    expect(existsSync(copy)).toBe(true);
    expect(existsSync(gone)).toBe(false);
    expect(existsSync(path.join(alive, 'worker-sdk', 'dist', 'engine', 'drain.js'))).toBe(true);
  });
});
