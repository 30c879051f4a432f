import { chmodSync, lstatSync, mkdirSync, readdirSync, realpathSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { SuperviseError } from '../errors.js';
import { logicalCwd } from '../config/logical-cwd.js';
import { isProcessAlive } from './process-alive.js';
import { sha256Hex } from './sha256.js';

/**
 * Where control sockets live and how a client finds its master's: one socket per master, named after the
 * directory it was started from and its pid, in a directory private to the user.
 */

/** Longest path a Unix socket accepts on Linux (sun_path is 108 bytes with the NUL). */
const MAX_SOCKET_PATH = 107;

const uid = (): number | null => (typeof process.getuid === 'function' ? process.getuid() : null);

/** Where default sockets live: per user, never shared. */
export function controlDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.XDG_RUNTIME_DIR
    ? path.join(env.XDG_RUNTIME_DIR, 'supervise')
    : path.join(os.tmpdir(), `supervise-${uid() ?? 'user'}`);
}

/**
 * Masters started from the same directory share this prefix, so `supervise status` run there finds them. The
 * directory is the one the user named (`/srv/app/current`, see logicalCwd), kept as given: after a deploy
 * switches `current`, a client run from it still finds the master started from it.
 */
function dirKey(dir: string): string {
  return sha256Hex(dir).slice(0, 12);
}

/** The keys a client tries for one directory: its path as given, and where it resolves to (the physical name). */
function dirKeys(dir: string): string[] {
  let real = dir;
  try {
    real = realpathSync(dir);
  } catch {
    // a deleted directory still has a name
  }
  return [...new Set([dirKey(dir), dirKey(real)])];
}

export function defaultControlPath(
  cwd = logicalCwd(),
  pid = process.pid,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return path.join(controlDir(env), `${dirKey(cwd)}-${pid}.sock`);
}

/** Creates the directory 0700, or checks that an existing one is ours and private (tightening it if it is ours). */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const me = uid();
  if (!st.isDirectory()) throw new SuperviseError('ERR_CONTROL', `control directory ${dir} is not a directory`);
  if (me !== null && st.uid !== me) {
    throw new SuperviseError(
      'ERR_CONTROL',
      `control directory ${dir} belongs to uid ${st.uid}, not to this user: refusing to use it`,
    );
  }
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/** Every live master's socket in this user's control directory (stale ones are removed on the way). */
export function liveSockets(env: NodeJS.ProcessEnv = process.env): { pid: number; file: string }[] {
  const dir = controlDir(env);
  let names: string[] = [];
  try {
    const st = lstatSync(dir);
    const me = uid();
    if (!st.isDirectory() || (me !== null && st.uid !== me))
      throw new SuperviseError('ERR_CONTROL', `control directory ${dir} is not ours: refusing to use it`);
    names = readdirSync(dir);
  } catch (err) {
    if (err instanceof SuperviseError) throw err;
  }
  return sweep(dir, names);
}

/**
 * The directories a command looks in for its master: up from each start (the directory as the user named it,
 * then the physical one, where a master may have been started), nearest first, without the shared ones above a
 * start (/, the temporary directory, home), where a master of someone else's project may run.
 */
export function upwardDirs(starts: string[]): string[] {
  const shared = sharedDirs();
  const chains = starts.map((start) => {
    const dirs: string[] = [];
    for (let dir = start; ; dir = path.dirname(dir)) {
      if (dir === start || !shared.has(dir)) dirs.push(dir);
      if (dir === path.dirname(dir)) return dirs;
    }
  });
  return [...new Set(chains.flat())];
}

/** Directories shared by unrelated work (/, the temp and home directories): a lookup never walks up into them. */
export function sharedDirs(): Set<string> {
  const dirs = ['/', os.tmpdir(), os.homedir(), '/tmp', '/var/tmp'];
  const real = (d: string) => {
    try {
      return realpathSync(d);
    } catch {
      return d;
    }
  };
  return new Set([...dirs, ...dirs.map(real)].map((d) => path.resolve(d)));
}

/**
 * The socket of the one master started from `cwd` or, as git finds its repository, from the nearest directory
 * above it that has one: `supervise status` works from anywhere inside the project. It never walks up into a
 * shared directory (lookup.ts: the CLI's lookup, which also tells apps apart).
 */
export function discoverControlPath(cwd = logicalCwd(), env: NodeJS.ProcessEnv = process.env): string {
  const sockets = liveSockets(env);
  for (const dir of upwardDirs([path.resolve(cwd), process.cwd()])) {
    const live = mastersStartedFrom(dir, sockets);
    if (live.length > 1) {
      throw new SuperviseError(
        'ERR_CONTROL',
        `${live.length} masters were started from ${dir} (pids ${live.map((l) => l.pid).join(', ')}): pass --control ${live[0]!.file}`,
      );
    }
    if (live.length === 1) return live[0]!.file;
  }
  const hint = sockets.length > 0 ? '; `supervise list` shows the running ones' : '';
  throw new SuperviseError(
    'ERR_CONTROL',
    `no supervise master was started from ${cwd} or above it (pass --control <path> to name its socket${hint})`,
  );
}

/** The live masters started from `dir` (by its name as given, or as it resolves). */
export function mastersStartedFrom(
  dir: string,
  sockets: { pid: number; file: string }[],
): { pid: number; file: string }[] {
  const prefixes = dirKeys(dir).map((k) => `${k}-`);
  return sockets.filter((s) => prefixes.some((p) => path.basename(s.file).startsWith(p)));
}

/** The sockets of live masters in `dir`; those of dead ones (SIGKILLed, so they could not clean up) are removed. */
export function sweep(dir: string, names: string[]): { pid: number; file: string }[] {
  const live: { pid: number; file: string }[] = [];
  for (const name of names) {
    const m = /^[0-9a-f]{12}-(\d+)\.sock$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    const file = path.join(dir, name);
    if (isProcessAlive(pid)) live.push({ pid, file });
    else {
      try {
        unlinkSync(file);
      } catch {
        // someone else cleaned it
      }
    }
  }
  return live;
}

export function checkPathLength(file: string): void {
  if (Buffer.byteLength(file) > MAX_SOCKET_PATH) {
    throw new SuperviseError(
      'ERR_USAGE',
      `--control: socket path is too long (${Buffer.byteLength(file)} bytes, at most ${MAX_SOCKET_PATH}): ${file}`,
    );
  }
}

/** Resolves when something answers on the socket, false when nothing does (a stale file). */
export function answers(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(file);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
