import path from 'node:path';

import { afterEach, describe, expect, it, vi } from 'vitest';

import {
  type ChangeBatch,
  ChangeCollector,
  describeFiles,
  globToRegExp,
  ignoreMatcher,
  watchLimitError,
} from '../../src/master/watch.js';
import { DEFAULT_IGNORE } from '../../src/config/entries/master.js';

describe('globToRegExp', () => {
  it('keeps * and ? within one segment and lets ** span several', () => {
    expect(globToRegExp('*.js').test('a.js')).toBe(true);
    expect(globToRegExp('*.js').test('src/a.js')).toBe(false);
    expect(globToRegExp('src/**/*.js').test('src/a.js')).toBe(true);
    expect(globToRegExp('src/**/*.js').test('src/x/y/a.js')).toBe(true);
    expect(globToRegExp('a?.js').test('ab.js')).toBe(true);
    expect(globToRegExp('a?.js').test('a/.js')).toBe(false);
    expect(globToRegExp('*.{js,ts}').test('a.ts')).toBe(true);
    expect(globToRegExp('[ab].js').test('b.js')).toBe(true);
    expect(globToRegExp('a.js').test('aXjs')).toBe(false);
  });

  it('dir/** names the directory itself too', () => {
    expect(globToRegExp('tmp/**').test('tmp')).toBe(true);
    expect(globToRegExp('tmp/**').test('tmp/a/b')).toBe(true);
    expect(globToRegExp('tmp/**').test('tmpx')).toBe(false);
  });
});

describe('ignoreMatcher', () => {
  const root = path.resolve('/srv/app');
  const at = (...p: string[]) => path.join(root, ...p);
  const ignored = ignoreMatcher([...DEFAULT_IGNORE, 'tmp/**', '*.sqlite', 'cache', '/var/shared/**'], [root], root, [
    at('app.pid'),
  ]);

  it('ignores the defaults at any depth, directories included (so the watcher never descends)', () => {
    for (const p of [
      'node_modules',
      'node_modules/x/index.js',
      'lib/node_modules',
      '.git',
      '.git/HEAD',
      'out.log',
      'logs',
      'logs/a.txt',
      'dist',
      'dist/server.js',
      'packages/a/build/x.js',
      '.server.js.swp',
      'server.js~',
    ]) {
      expect(ignored(at(p)), p).toBe(true);
    }
  });

  it('watches source files, and never ignores a watched path itself', () => {
    for (const p of ['server.js', 'src/routes/a.js', 'distance.js', 'src/builder.js', 'package.json', '.env']) {
      expect(ignored(at(p)), p).toBe(false);
    }
    expect(ignored(root)).toBe(false);
  });

  it('does not ignore a project that lives under a directory named like a default (build, dist)', () => {
    const under = path.resolve('/home/me/build/app');
    const m = ignoreMatcher(DEFAULT_IGNORE, [under], path.resolve('/home/me'));
    expect(m(path.join(under, 'server.js'))).toBe(false);
    expect(m(path.join(under, 'dist/x.js'))).toBe(true);
  });

  it('user patterns: anchored, by name at any depth, absolute, exact paths', () => {
    expect(ignored(at('tmp'))).toBe(true);
    expect(ignored(at('tmp/a.js'))).toBe(true);
    expect(ignored(at('src/tmp/a.js'))).toBe(false);
    expect(ignored(at('db/data.sqlite'))).toBe(true);
    expect(ignored(at('src/cache/x.js'))).toBe(true);
    expect(ignored(path.resolve('/var/shared/a.js'))).toBe(true);
    expect(ignored(at('app.pid'))).toBe(true);
  });

  it('anchored patterns also work relative to --cwd when a subdirectory is watched', () => {
    const m = ignoreMatcher(['src/gen/**'], [at('src')], root);
    expect(m(at('src/gen/a.js'))).toBe(true);
    expect(m(at('src/a.js'))).toBe(false);
  });

  it('a malformed pattern is a usage error, not a stack trace', () => {
    expect(() => ignoreMatcher(['{a'], [root], root)).toThrow(/--ignore: not a valid pattern/);
  });
});

describe('ChangeCollector', () => {
  afterEach(() => vi.useRealTimers());

  it('a storm of events within the quiet time is one batch with every file, once', () => {
    vi.useFakeTimers();
    const batches: ChangeBatch[] = [];
    const c = new ChangeCollector(200, 10_000, (b) => batches.push(b));
    for (let i = 0; i < 200; i++) {
      if (i > 0) vi.advanceTimersByTime(4);
      c.add('change', `/a/f${i % 150}.js`);
    }
    expect(batches).toHaveLength(0);
    vi.advanceTimersByTime(199);
    expect(batches).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.files).toHaveLength(150);
    expect(batches[0]!.events).toBe(200);
  });

  it("leaves out an editor's temp file (created and removed in the same burst), keeps the real file", () => {
    vi.useFakeTimers();
    const batches: ChangeBatch[] = [];
    const c = new ChangeCollector(100, 10_000, (b) => batches.push(b));
    c.add('add', '/a/.server.js.tmp');
    c.add('unlink', '/a/.server.js.tmp');
    c.add('change', '/a/server.js');
    vi.advanceTimersByTime(100);
    expect(batches.map((b) => b.files)).toEqual([['/a/server.js']]);
  });

  it('a deleted and re-created file counts as changed; a burst of only transient files is an empty batch', () => {
    vi.useFakeTimers();
    const batches: ChangeBatch[] = [];
    const c = new ChangeCollector(50, 10_000, (b) => batches.push(b));
    c.add('unlink', '/a/x.js');
    c.add('add', '/a/x.js');
    vi.advanceTimersByTime(50);
    c.add('add', '/a/tmp');
    c.add('unlink', '/a/tmp');
    vi.advanceTimersByTime(50);
    expect(batches.map((b) => b.files)).toEqual([['/a/x.js'], []]);
  });

  it('a tree that never goes quiet is flushed after maxWait rather than never', () => {
    vi.useFakeTimers();
    const batches: ChangeBatch[] = [];
    const c = new ChangeCollector(200, 1_000, (b) => batches.push(b));
    for (let t = 0; t < 1_500; t += 100) {
      c.add('change', '/a/busy.json');
      vi.advanceTimersByTime(100);
    }
    expect(batches).toHaveLength(1);
    expect(batches[0]!.spanMs).toBeGreaterThanOrEqual(900);
  });

  it('close() drops what is pending', () => {
    vi.useFakeTimers();
    const onBatch = vi.fn();
    const c = new ChangeCollector(50, 1_000, onBatch);
    c.add('change', '/a/x.js');
    c.close();
    c.add('change', '/a/y.js');
    vi.advanceTimersByTime(1_000);
    expect(onBatch).not.toHaveBeenCalled();
  });
});

describe('describeFiles', () => {
  it('names files relative to their watched path and counts the rest', () => {
    const root = path.resolve('/srv/app');
    const files = ['a.js', 'lib/b.js', 'c.js', 'd.js'].map((f) => path.join(root, f));
    expect(describeFiles(files.slice(0, 2), [root])).toBe('a.js, lib/b.js');
    expect(describeFiles(files, [root])).toBe('a.js, lib/b.js, c.js and 1 more');
    expect(describeFiles([path.join(root, 'server.js')], [path.join(root, 'server.js')])).toBe('server.js');
  });
});

describe('watchLimitError', () => {
  const err = (code: string) => Object.assign(new Error(`watch /x ${code}`), { code });

  it('ENOSPC: one line naming the sysctl and --watch-poll, exit code 2', () => {
    const e = watchLimitError(err('ENOSPC'), false)!;
    expect(e.code).toBe('ERR_WATCH_LIMIT');
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/fs\.inotify\.max_user_watches=\d+/);
    expect(e.message).toMatch(/--watch-poll/);
    expect(e.message).not.toMatch(/\n/);
    expect(watchLimitError(err('ENOSPC'), true)!.message).not.toMatch(/--watch-poll/);
  });

  it('EMFILE is explained too; other errors are not limit errors', () => {
    expect(watchLimitError(err('EMFILE'), false)?.message).toMatch(/ulimit -n/);
    expect(watchLimitError(err('EACCES'), false)).toBeNull();
    expect(watchLimitError(null, false)).toBeNull();
  });
});
