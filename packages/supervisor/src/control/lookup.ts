import { realpathSync } from 'node:fs';
import path from 'node:path';

import { logicalCwd } from '../config/logical-cwd.js';
import { SuperviseError } from '../errors.js';
import { sendRequest } from './client.js';
import { liveSockets, mastersStartedFrom, upwardDirs } from './paths.js';

/**
 * Which master a control command acts on, when no --control names it. The masters started from this directory
 * (as the user named it, `pwd -L`, or as the kernel has it); else, as git finds its repository, from the nearest
 * directory above that has one, but never from a directory many unrelated jobs share (/, the temp directory,
 * the home directory): a master started there belongs to this directory only when run from it. Several masters
 * in one directory (one per app of a PM2 file) are told apart by --app.
 */

const realOr = (dir: string): string => {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
};

export interface FoundMaster {
  file: string;
  pid: number;
  /** The directory it was started from. */
  dir: string;
  /** Started from the directory the command runs in (not from one above it). */
  here: boolean;
  /** Its app's name (a PM2 file's app), when it says. */
  app: string | null;
}

/** The app a master runs, from its `config` answer (bounded: a master that hangs is no answer). */
async function appOf(file: string, timeoutMs = 2000): Promise<string | null> {
  let app: string | null = null;
  const asked = sendRequest(file, { cmd: 'config' }, (body) => {
    if (body.ok === true && 'app' in body) app = body.app;
  }).catch(() => {});
  await Promise.race([asked, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  return app;
}

/** Where a master runs, from its `status` answer (bounded, like appOf). */
async function placeOf(file: string, timeoutMs = 2000): Promise<{ cwd: string; release: string | null } | null> {
  let place: { cwd: string; release: string | null } | null = null;
  const asked = sendRequest(file, { cmd: 'status' }, (body) => {
    if (body.ok === true) place = { cwd: body.master.cwd, release: body.master.release };
  }).catch(() => {});
  await Promise.race([asked, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  return place;
}

/** The one master among those of `dir`: the only one, or the one of `app`. */
function pick(found: FoundMaster[], dir: string, app: string | undefined): FoundMaster {
  if (app !== undefined) {
    const named = found.filter((f) => f.app === app);
    if (named.length === 1) return named[0]!;
    const apps = found.map((f) => `${f.app ?? '(no app name)'} (pid ${f.pid})`).join(', ');
    throw new SuperviseError('ERR_CONTROL', `no master of app "${app}" was started from ${dir}: it has ${apps}`);
  }
  if (found.length > 1) {
    const names = found.map((f) => (f.app ? `${f.app} (pid ${f.pid})` : `pid ${f.pid}`)).join(', ');
    throw new SuperviseError(
      'ERR_CONTROL',
      `${found.length} masters were started from ${dir} (${names}): pick one with --app <name> or --control ${found[0]!.file}`,
    );
  }
  return found[0]!;
}

/**
 * `named`: the caller will name the master if it was found above this directory. A master is asked its app only
 * when that matters (--app, several in one directory, a name to say): each question is a line in its log.
 */
export async function findMaster(
  app: string | undefined,
  { named = false, cwd = logicalCwd() }: { named?: boolean; cwd?: string } = {},
): Promise<FoundMaster> {
  const sockets = liveSockets();
  const starts = [path.resolve(cwd), process.cwd()];
  for (const dir of upwardDirs(starts)) {
    const live = mastersStartedFrom(dir, sockets);
    if (live.length === 0) continue;
    const here = starts.includes(dir) || starts.map(realOr).includes(realOr(dir));
    const ask = app !== undefined || live.length > 1 || (named && !here);
    const found = await Promise.all(
      live.map(async (l) => ({ ...l, dir, here, app: ask ? await appOf(l.file) : null })),
    );
    return pick(found, dir, app);
  }
  // A master started from a logical path (`/srv/app/current`) run here through the physical one (the release it
  // pointed to, `cd -P`): its socket is named after the logical path, which this directory cannot name. Each
  // master says where its directory resolves now; this very directory only, never one above.
  const mine = new Set(starts.map(realOr));
  const places = await Promise.all(sockets.map(async (s) => ({ ...s, place: await placeOf(s.file) })));
  const same = places.filter((p) => p.place?.release != null && mine.has(p.place.release));
  if (same.length > 0) {
    const dir = same[0]!.place!.cwd;
    const ask = app !== undefined || same.length > 1;
    const found = await Promise.all(
      same.map(async (m) => ({
        pid: m.pid,
        file: m.file,
        dir: m.place!.cwd,
        here: true,
        app: ask ? await appOf(m.file) : null,
      })),
    );
    return pick(found, dir, app);
  }
  const hint = sockets.length > 0 ? '; `supervise list` shows the running ones' : '';
  throw new SuperviseError(
    'ERR_CONTROL',
    `no supervise master was started from ${cwd} or above it (pass --control <path> to name its socket${hint})`,
  );
}

/** `stop: master 4242 (api) started from /srv/app, above this directory`: said before a change acts on it. */
export function foundElsewhere(cmd: string, m: FoundMaster): string | null {
  if (m.here) return null;
  return `${cmd}: master ${m.pid}${m.app ? ` (${m.app})` : ''} started from ${m.dir}, above this directory`;
}
