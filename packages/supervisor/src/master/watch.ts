/**
 * Reload on file change: a producer of rollout requests, like SIGHUP. File events are collected until the tree
 * has been quiet for `watchDebounceMs`, then one reload names the files. Everything that decides whether the
 * new code is good (ready, rollback, the follow-up queued during a rollout) is the rollout's job, not this one's.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { FSWatcher } from 'chokidar';

import { SuperviseError } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import type { SupervisorOptions } from '../config/options.js';
import type { Supervisor } from './supervisor.js';
import { importEsm } from '../import-esm.js';

// ---- ignore patterns ----

/** `/` separated, whatever the platform, so one set of patterns works everywhere. */
const posix = (p: string) => p.split(path.sep).join('/');

/** A glob as a regular expression: `**` spans directories, `*` and `?` stay within one, `{a,b}` and `[...]` as usual. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const atStart = i === 0 || glob[i - 1] === '/';
      const next = glob[i + 2];
      if (atStart && next === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else if (atStart && next === undefined && i > 0) {
        // `dir/**` also names `dir` itself: ignoring it keeps the watcher out of it entirely.
        re = `${re.slice(0, -1)}(?:/.*)?`;
        i += 1;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '{') {
      braces++;
      re += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      re += ')';
    } else if (c === ',' && braces > 0) re += '|';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) re += '\\[';
      else {
        const body = glob
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^$()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Decides which paths the watcher skips (it does not descend into an ignored directory, which also keeps inotify
 * watches for node_modules and the like from being spent). Pattern rules, gitignore-like:
 * - no `/` (`*.log`, `tmp`): matches a file or directory name at any depth, and everything below it;
 * - leading `**\/` (`**\/dist/**`): any depth below a watched path, never above it, so that a project that
 *   happens to live under a directory called `build` is still watched;
 * - other relative patterns (`src/gen/**`): relative to the watched path or to --cwd;
 * - absolute patterns: as they are, and so are `exact` paths (the pid file, the control socket).
 */
export function ignoreMatcher(
  patterns: readonly string[],
  roots: readonly string[],
  cwd: string,
  exact: readonly string[] = [],
): (file: string) => boolean {
  const anyDepth: RegExp[] = [];
  const anchored: RegExp[] = [];
  const absolute: RegExp[] = [];
  const anyName = (glob: string) => new RegExp(`(?:^|/)${globToRegExp(glob).source.slice(1, -1)}(?:/|$)`);
  for (const raw of patterns) {
    const p = posix(raw).replace(/^\.\//, '');
    if (p === '') continue;
    try {
      if (!p.replace(/\/$/, '').includes('/')) anyDepth.push(anyName(p.replace(/\/$/, '')));
      else if (path.isAbsolute(raw)) absolute.push(globToRegExp(posix(path.resolve(raw))));
      else if (p.startsWith('**/')) anyDepth.push(globToRegExp(p.replace(/\/$/, '/**')));
      else anchored.push(globToRegExp(p.replace(/\/$/, '/**')));
    } catch {
      throw new SuperviseError('ERR_USAGE', `--ignore: not a valid pattern: "${raw}"`);
    }
  }
  const exactSet = new Set(exact.map((p) => path.resolve(p)));
  const rootsAbs = roots.map((r) => path.resolve(r));
  const inside = (base: string, file: string) => {
    const rel = path.relative(base, file);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? posix(rel) : null;
  };
  return (file: string) => {
    const abs = path.resolve(file);
    if (exactSet.has(abs)) return true;
    if (absolute.some((re) => re.test(posix(abs)))) return true;
    const fromCwd = inside(cwd, abs);
    if (fromCwd !== null && anchored.some((re) => re.test(fromCwd))) return true;
    for (const root of rootsAbs) {
      const rel = inside(root, abs);
      if (rel === null) continue;
      if (anyDepth.some((re) => re.test(rel)) || anchored.some((re) => re.test(rel))) return true;
    }
    return false;
  };
}

// ---- collecting a burst of changes ----

export type ChangeKind = 'add' | 'change' | 'unlink';

export interface ChangeBatch {
  /** Every path that changed, in the order first seen (files created and deleted within the burst left out). */
  files: string[];
  /** How long the burst lasted, from its first event to its last. */
  spanMs: number;
  events: number;
}

/**
 * Debounce with collection: events are gathered until none has come for `quietMs`, then flushed as one batch.
 * A tree that never goes quiet (a file rewritten every 100 ms) is flushed anyway after `maxWaitMs`, so that it
 * shows up in the log by name instead of silently holding every reload back.
 */
export class ChangeCollector {
  private pending = new Map<string, { first: ChangeKind; last: ChangeKind }>();
  private timer: NodeJS.Timeout | null = null;
  private firstAt = 0;
  private lastAt = 0;
  private events = 0;
  private closed = false;

  constructor(
    private readonly quietMs: number,
    private readonly maxWaitMs: number,
    private readonly onBatch: (batch: ChangeBatch) => void,
  ) {}

  add(kind: ChangeKind, file: string): void {
    if (this.closed) return;
    const now = Date.now();
    if (this.pending.size === 0 && this.events === 0) this.firstAt = now;
    this.lastAt = now;
    this.events++;
    const seen = this.pending.get(file);
    if (seen) seen.last = kind;
    else this.pending.set(file, { first: kind, last: kind });
    if (this.timer) clearTimeout(this.timer);
    const waited = now - this.firstAt;
    this.timer = setTimeout(() => this.flush(), Math.max(0, Math.min(this.quietMs, this.maxWaitMs - waited)));
  }

  get size(): number {
    return this.pending.size;
  }

  /** Emits what is pending now (a no-op when nothing is). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.events === 0) return;
    // An editor's temp file (written, then renamed over the real one) is born and gone within one burst.
    const files = [...this.pending].filter(([, k]) => !(k.first === 'add' && k.last === 'unlink')).map(([f]) => f);
    const batch = { files, spanMs: this.lastAt - this.firstAt, events: this.events };
    this.pending = new Map();
    this.events = 0;
    this.onBatch(batch);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending.clear();
    this.events = 0;
  }
}

/** `a.js, lib/b.js and 198 more`: relative to the watched path that contains them. */
export function describeFiles(files: readonly string[], roots: readonly string[], max = 3): string {
  const rel = files.map((f) => {
    for (const root of roots) {
      const r = path.relative(root, f);
      if (r === '') return path.basename(f);
      if (!r.startsWith('..') && !path.isAbsolute(r)) return posix(r);
    }
    return posix(f);
  });
  const shown = rel.slice(0, max).join(', ');
  return rel.length > max ? `${shown} and ${rel.length - max} more` : shown;
}

// ---- errors ----

/** The watcher's errors a user can act on, as one line; null for the rest. */
export function watchLimitError(err: unknown, poll: boolean): SuperviseError | null {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC') {
    return new SuperviseError(
      'ERR_WATCH_LIMIT',
      'file watching hit the inotify limit (ENOSPC, fs.inotify.max_user_watches): raise it with ' +
        '`sudo sysctl fs.inotify.max_user_watches=524288` (add it to /etc/sysctl.conf to keep it), ' +
        `watch fewer paths, --ignore large directories${poll ? '' : ', or use --watch-poll'}`,
    );
  }
  if (code === 'EMFILE') {
    return new SuperviseError(
      'ERR_WATCH_LIMIT',
      'file watching ran out of file descriptors (EMFILE): raise `ulimit -n` or fs.inotify.max_user_instances, ' +
        `watch fewer paths, --ignore large directories${poll ? '' : ', or use --watch-poll'}`,
    );
  }
  return null;
}

// ---- the watcher ----

/** Log lines keep at most this many paths; the count is always there. */
const LOGGED_FILES = 50;

/**
 * Built before the workers start (so that a bad --watch path is a usage error, not a half-started cluster),
 * started once they are ready, closed when the supervisor stops.
 */
export class FileWatcher {
  readonly roots: string[];
  readonly isIgnored: (file: string) => boolean;
  private watcher: FSWatcher | null = null;
  private collector: ChangeCollector | null = null;
  private limitReported = false;
  private abortStart: (() => void) | null = null;

  constructor(private readonly options: SupervisorOptions) {
    this.roots = options.watch ?? [path.dirname(options.script)];
    for (const root of this.roots) {
      if (!existsSync(root)) throw new SuperviseError('ERR_USAGE', `--watch: no such file or directory: ${root}`);
    }
    const exact = [options.pidFile, options.control].filter((p): p is string => p !== null);
    this.isIgnored = ignoreMatcher(options.ignore, this.roots, options.cwd, exact);
  }

  /**
   * Resolves once the initial scan is done; rejects with ERR_WATCH_LIMIT when the system's watch limit is hit
   * during it (later, the same error is logged and the paths already watched keep working).
   */
  async start(supervisor: Supervisor): Promise<void> {
    const o = this.options;
    const log = supervisor.log;
    for (const root of this.roots) {
      if (root === path.parse(root).root || root === os.homedir()) {
        log.warn({ event: 'watch.broad', path: root }, `watching ${root}: that is a lot of files; pass --watch <dir>`);
      }
    }
    const started = Date.now();
    // Loaded here, so that a master without --watch does not carry chokidar.
    const { watch } = await importEsm<typeof import('chokidar')>('chokidar');
    this.collector = new ChangeCollector(o.watchDebounceMs, Math.max(10_000, o.watchDebounceMs * 10), (batch) =>
      this.onBatch(supervisor, batch),
    );
    const watcher = watch(this.roots, {
      ignoreInitial: true,
      usePolling: o.watchPoll,
      // A burst of chunked writes is already one batch through the debounce; awaitWriteFinish would only add delay.
      awaitWriteFinish: false,
      ignored: (file: string) => this.isIgnored(file),
      persistent: true,
    });
    this.watcher = watcher;
    supervisor.once('stopping', () => void this.close());

    const startupErrors: unknown[] = [];
    let ready = false;
    watcher.on('error', (err: unknown) => {
      if (!ready) startupErrors.push(err);
      else this.onError(log, err);
    });
    watcher.on('all', (event, file) => {
      if (event === 'add' || event === 'change' || event === 'unlink') {
        log.debug({ event: 'watch.event', kind: event, path: file }, `${event} ${file}`);
        this.collector?.add(event, file);
      }
    });
    await new Promise<void>((resolve) => {
      watcher.once('ready', () => resolve());
      this.abortStart = resolve;
    });
    this.abortStart = null;
    ready = true;
    if (this.watcher !== watcher) return; // the supervisor began to stop during the scan

    const limit = startupErrors.map((e) => watchLimitError(e, o.watchPoll)).find((e) => e !== null);
    if (limit) {
      await this.close();
      throw limit;
    }
    for (const err of startupErrors) this.onError(log, err);
    // chokidar also lists each root's parent: count only what is inside the roots.
    const directories = Object.keys(watcher.getWatched()).filter((d) =>
      this.roots.some((r) => d === r || d.startsWith(r.endsWith(path.sep) ? r : r + path.sep)),
    ).length;
    log.info(
      {
        event: 'watch.ready',
        paths: this.roots,
        directories,
        poll: o.watchPoll,
        debounceMs: o.watchDebounceMs,
        durationMs: Date.now() - started,
      },
      `watching ${this.roots.join(', ')} for changes` +
        (directories > 0 || o.watchPoll
          ? ` (${[
              directories > 0 ? `${directories} director${directories === 1 ? 'y' : 'ies'}` : '',
              o.watchPoll ? 'polling' : '',
            ]
              .filter(Boolean)
              .join(', ')})`
          : ''),
    );
  }

  async close(): Promise<void> {
    this.abortStart?.();
    this.collector?.close();
    const w = this.watcher;
    this.watcher = null;
    if (w) await w.close();
  }

  private onBatch(supervisor: Supervisor, batch: ChangeBatch): void {
    const log = supervisor.log;
    if (batch.files.length === 0) {
      log.debug({ event: 'watch.transient', events: batch.events }, 'files came and went: nothing to reload');
      return;
    }
    const names = describeFiles(batch.files, this.roots);
    log.info(
      {
        event: 'watch.change',
        count: batch.files.length,
        files: batch.files.slice(0, LOGGED_FILES),
        ...(batch.files.length > LOGGED_FILES ? { truncated: batch.files.length - LOGGED_FILES } : {}),
        events: batch.events,
        spanMs: batch.spanMs,
      },
      `${batch.files.length} file${batch.files.length === 1 ? '' : 's'} changed (${names}): reloading`,
    );
    void supervisor.reload(`watch: ${names}`).then((summary) => {
      if (summary.outcome !== 'rolled-back') return;
      log.warn(
        { event: 'watch.rolled-back', generation: summary.generation },
        'the new code did not start (see the lines above); the old workers keep serving until the next change',
      );
    });
  }

  private onError(log: Logger, err: unknown): void {
    const limit = watchLimitError(err, this.options.watchPoll);
    if (limit) {
      // Reported once: a limit hit on one directory is usually hit on every one that follows.
      if (this.limitReported) return;
      this.limitReported = true;
      log.error({ event: 'watch.error', code: limit.code }, `${limit.message}; files already watched still reload`);
      return;
    }
    log.warn({ event: 'watch.error', err: String(err) }, `file watcher: ${String(err)}`);
  }
}
