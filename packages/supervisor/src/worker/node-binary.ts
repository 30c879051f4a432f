import { execFile } from 'node:child_process';

import { SuperviseError } from '../errors.js';

/**
 * `--node`: the interpreter the workers run on. node:cluster forks every worker with the primary's own binary
 * (its fork() passes no execPath; child_process.fork reads process.execPath at each call), so the master
 * swaps process.execPath around each fork. The binary is checked before a rollout starts: it runs, answers
 * --version, and is a Node the SDK supports.
 */

/** The oldest Node the SDK supports (its engines field). */
export const MIN_NODE = [20, 19] as const;

const CHECK_TIMEOUT_MS = 10_000;

function fail(bin: string, why: string): never {
  throw new SuperviseError('ERR_CONFIG', `--node ${bin}: ${why}`);
}

/** Runs `bin --version`; resolves with its version (`v22.12.0`), or throws a one-line SuperviseError. */
export function checkNode(bin: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // The master's environment, which the workers inherit too: a NODE_OPTIONS the new Node rejects fails here,
    // before any worker does; a version manager's shim finds what it needs (PATH, HOME).
    execFile(bin, ['--version'], { timeout: CHECK_TIMEOUT_MS }, (err, stdout, stderr) => {
      try {
        if (err) {
          const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: unknown };
          if (e.code === 'ENOENT') fail(bin, 'no such file');
          if (e.code === 'EACCES') fail(bin, 'not executable');
          if (e.killed) fail(bin, `did not answer --version within ${CHECK_TIMEOUT_MS / 1000} s`);
          const first = String(stderr).trim().split('\n')[0] ?? '';
          fail(bin, `--version failed${first ? `: ${first}` : ` (${e.message.split('\n')[0]})`}`);
        }
        const version = String(stdout).trim();
        const m = /^v(\d+)\.(\d+)\.(\d+)$/.exec(version);
        if (!m) fail(bin, `does not look like node (--version printed ${JSON.stringify(version.slice(0, 40))})`);
        const [major, minor] = [Number(m[1]), Number(m[2])];
        if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1]))
          fail(bin, `is node ${version}; the workers need node >= ${MIN_NODE.join('.')}`);
        resolve(version);
      } catch (error) {
        reject(error);
      }
    });
  });
}

/**
 * With `--ipc-serialization advanced` the master and the workers exchange V8's serialization format, which
 * an older V8 may not read: the workers' Node must then be the master's major version.
 */
export function checkSerialization(bin: string, version: string, serialization: 'json' | 'advanced'): void {
  const major = (v: string) => v.slice(1).split('.')[0];
  if (serialization === 'advanced' && major(version) !== major(process.version))
    fail(
      bin,
      `is node ${version} and the master runs ${process.version}: with --ipc-serialization advanced both must be the same major version (json works across versions)`,
    );
}

/** Runs `fork` with process.execPath set to `bin` (node:cluster's only way to pick the worker's binary). */
export function withExecPath<T>(bin: string | null, fork: () => T): T {
  if (bin === null) return fork();
  const own = process.execPath;
  process.execPath = bin;
  try {
    return fork();
  } finally {
    process.execPath = own;
  }
}
