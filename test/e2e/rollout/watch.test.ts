import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { get, load, until } from '../../helpers/http.js';
import {
  CLI,
  fixture,
  freePort,
  killAll,
  type LogLine,
  supervise,
  type Supervised,
  waitGone,
} from '../../helpers/supervise.js';

const dirs: string[] = [];
afterEach(() => killAll());
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh copy of the fixture app in a temp dir, so that the test can edit its files. */
function appDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'supervise-watch-'));
  dirs.push(dir);
  fs.cpSync(fixture('rollout/watch-app'), dir, { recursive: true });
  return dir;
}

const versionSource = (v: string) => `module.exports = '${v}';\n`;

async function start(
  dir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ s: Supervised; port: number }> {
  const port = await freePort();
  const s = supervise([path.join(dir, 'server.js'), ...args, '--watch', dir], { env: { PORT: String(port), ...env } });
  await s.ready();
  await s.waitEvent('watch.ready');
  return { s, port };
}

/** Waits for the next line of `event` logged after the current end of the log. */
const next = (s: Supervised, event: string, pred: (l: LogLine) => boolean = () => true, timeout = 15_000) =>
  s.waitEvent(event, pred, timeout, s.lines.length);

const quietFor = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('supervise --watch', () => {
  it('200 writes, no gap between them as long as the debounce, give exactly one rollout, whose log names the files', async () => {
    const dir = appDir();
    // The debounce is the quiet time that ends a batch: a loaded machine can stall this test's own writes for
    // longer than the default 200 ms, which would rightly end the batch early. The claim is about gaps shorter
    // than the debounce, so the debounce is long and the test checks that its gaps were shorter.
    const debounceMs = 2_000;
    const { s } = await start(dir, ['-w', '2', '--watch-debounce', String(debounceMs)]);
    fs.mkdirSync(path.join(dir, 'lib'));
    // Ten bursts of twenty with a pause between them: a build writing its output.
    let last = Date.now();
    let longestGap = 0;
    for (let burst = 0; burst < 10; burst++) {
      for (let i = 0; i < 20; i++) {
        fs.writeFileSync(path.join(dir, 'lib', `m${burst * 20 + i}.js`), `exports.n = ${i};\n`);
        longestGap = Math.max(longestGap, Date.now() - last);
        last = Date.now();
      }
      await quietFor(40);
    }
    expect(longestGap).toBeLessThan(debounceMs);
    const end = await s.waitEvent('rollout.end', undefined, 15_000);
    expect(end.outcome).toBe('done');
    // Anything still pending would have been queued during the rollout or started right after it.
    await quietFor(400);
    expect(s.events('rollout.start')).toHaveLength(1);
    expect(s.events('rollout.queued')).toHaveLength(0);
    const change = s.events('watch.change');
    expect(change).toHaveLength(1);
    expect(change[0]!.count).toBe(200);
    expect(change[0]!.files as string[]).toHaveLength(50);
    expect(change[0]!.truncated).toBe(150);
    expect(end.trigger).toMatch(/^watch: lib\/m\d+\.js, lib\/m\d+\.js, lib\/m\d+\.js and 197 more$/);
    // The watcher does not hold the stop back.
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
  });

  it('a save with a syntax error rolls back (old pids keep answering 200); the next, atomic, save is served', async () => {
    const dir = appDir();
    const { s, port } = await start(dir, ['-w', '2']);
    const old = new Set(s.servingPids());
    expect(old.size).toBe(2);

    fs.writeFileSync(path.join(dir, 'version.js'), "module.exports = 'v2' +;\n");
    const failed = await next(s, 'rollout.end');
    expect(failed.outcome).toBe('rolled-back');
    expect(failed.trigger).toBe('watch: version.js');
    expect((failed.lastLines as string[]).join('\n')).toMatch(/SyntaxError/);
    await s.waitEvent('watch.rolled-back');
    for (let i = 0; i < 10; i++) {
      const answer = await get(port, '/');
      expect(answer.status).toBe(200);
      const [version, pid] = answer.body.trim().split(' ');
      expect(version).toBe('v1');
      expect(old.has(Number(pid))).toBe(true);
    }

    // An editor's atomic save: write a temp file, rename it over the real one.
    const tmp = path.join(dir, `.version.js.${process.pid}.tmp`);
    fs.writeFileSync(tmp, versionSource('v3'));
    fs.renameSync(tmp, path.join(dir, 'version.js'));
    const fixed = await next(s, 'rollout.end');
    expect(fixed.outcome).toBe('done');
    expect(fixed.trigger).toBe('watch: version.js');
    const answers = await until(
      async () => {
        const bodies = await Promise.all(Array.from({ length: 6 }, () => get(port, '/')));
        return bodies.every((b) => b.status === 200 && b.body.startsWith('v3 ')) ? bodies : null;
      },
      5_000,
      'the new code to answer',
    );
    for (const a of answers) expect(old.has(Number(a.body.trim().split(' ')[1]))).toBe(false);
    expect(s.events('rollout.start')).toHaveLength(2);
  });

  it('changes during a rollout queue exactly one follow-up, which picks up the last save', async () => {
    const dir = appDir();
    // The gate (outside the watched directory) is open for the first boot and closed for rollout 2, whose
    // replacement then does not listen until every change below has been seen.
    const gate = path.join(appDir(), 'gate');
    fs.writeFileSync(gate, '');
    const { s, port } = await start(dir, ['-w', '1', '--watch-debounce', '100'], { GATE_FILE: gate });
    fs.rmSync(gate);
    fs.writeFileSync(path.join(dir, 'version.js'), versionSource('v2'));
    await next(s, 'rollout.start');
    const during = s.lines.length;
    fs.writeFileSync(path.join(dir, 'version.js'), versionSource('v3'));
    await s.waitEvent('rollout.queued', undefined, 5_000, during);
    fs.writeFileSync(path.join(dir, 'other.js'), 'exports.x = 1;\n');
    await s.waitEvent('rollout.queued', undefined, 5_000, s.lines.length);
    fs.writeFileSync(path.join(dir, 'version.js'), versionSource('v4'));
    await s.waitEvent(
      'watch.change',
      (l) => (l.files as string[]).includes(path.join(dir, 'version.js')),
      5_000,
      s.lines.length,
    );
    // All three arrived while rollout 2 was still running.
    expect(s.events('rollout.end')).toHaveLength(0);
    fs.writeFileSync(gate, '');

    const second = await s.waitEvent('rollout.end', (l) => l.generation === 3, 15_000);
    expect(second.outcome).toBe('done');
    expect(second.trigger).toBe('watch: version.js, watch: other.js');
    expect(s.events('rollout.start').map((l) => l.generation)).toEqual([2, 3]);
    expect((await get(port, '/')).body).toMatch(/^v4 /);
  });

  it('ignored paths trigger nothing, and the watcher does not descend into them', async () => {
    const dir = appDir();
    fs.mkdirSync(path.join(dir, 'node_modules/dep/lib'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'node_modules/dep/lib/index.js'), '');
    const { s } = await start(dir, ['-w', '1', '--ignore', 'scratch/**', '--ignore', '*.sqlite']);
    expect(s.events('watch.ready')[0]!.directories).toBe(1);

    const write = (p: string) => {
      fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
      fs.writeFileSync(path.join(dir, p), 'x\n');
    };
    for (const p of [
      'node_modules/dep/lib/index.js',
      'node_modules/new/index.js',
      '.git/HEAD',
      'logs/today.txt',
      'app.log',
      'dist/bundle.js',
      'build/x.js',
      'scratch/notes.js',
      'db/data.sqlite',
      '.server.js.swp',
      'server.js~',
    ]) {
      write(p);
    }
    // Absence can only be shown by waiting: a bounded wait, five times the debounce.
    await quietFor(1_000);
    expect(s.events('watch.change')).toHaveLength(0);
    expect(s.events('rollout.start')).toHaveLength(0);

    // The watcher is alive: a real change still reloads.
    fs.writeFileSync(path.join(dir, 'version.js'), versionSource('v2'));
    const started = await s.waitEvent('rollout.start', undefined, 5_000);
    expect(started.trigger).toBe('watch: version.js');
  });

  it('a --watch path that does not exist, or a malformed --ignore, is a one-line usage error before any fork', async () => {
    const dir = appDir();
    for (const args of [
      ['--watch', path.join(dir, 'nope')],
      ['--ignore', '{a', '--watch'],
    ]) {
      const s = supervise([path.join(dir, 'server.js'), ...args]);
      expect((await s.waitExit()).code).toBe(2);
      expect(s.stderr.trim().split('\n')).toHaveLength(1);
      expect(s.stderr).toMatch(/^supervise: --(watch: no such file or directory|ignore: not a valid pattern)/);
      expect(s.forkedPids()).toEqual([]);
    }
  });

  // A user namespace has its own inotify limit: lowering it there reproduces ENOSPC without touching the host's.
  const LIMIT = 'echo 20 > /proc/sys/user/max_inotify_watches';
  const canLimit = process.platform === 'linux' && spawnSync('unshare', ['-U', '-r', 'sh', '-c', LIMIT]).status === 0;

  it.skipIf(!canLimit)(
    'the inotify limit (ENOSPC) at start: one line on how to raise it or use --watch-poll, exit 2',
    async () => {
      const dir = appDir();
      for (let i = 0; i < 40; i++) fs.mkdirSync(path.join(dir, `d${i}`));
      const port = await freePort();
      const run = spawnSync(
        'unshare',
        [
          '-U',
          '-r',
          'sh',
          '-c',
          `${LIMIT} && exec "$0" "$@"`,
          process.execPath,
          CLI,
          path.join(dir, 'server.js'),
          '-w',
          '1',
          '--log-format',
          'json',
          '--watch',
        ],
        { env: { ...process.env, PORT: String(port) }, encoding: 'utf8', timeout: 15_000 },
      );
      expect(run.status).toBe(2);
      expect(run.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(/^supervise: .*ENOSPC.*max_user_watches.*--watch-poll$/),
      ]);
      // The workers saw their master go and drained themselves.
      const pids = run.stdout
        .split('\n')
        .filter((l) => l.includes('"worker.fork"'))
        .map((l) => (JSON.parse(l) as LogLine).pid as number);
      expect(pids).toHaveLength(1);
      await waitGone(pids, 5_000);
    },
  );

  it('a watch-triggered reload under a keep-alive load of 20 connections loses no request', async () => {
    const dir = appDir();
    const { s, port } = await start(dir, ['-w', '2']);
    const before = new Set(s.servingPids());
    const traffic = load(port, { connections: 20, maxMs: 20_000 });
    await until(() => traffic.result.ok > 200, 10_000, 'load to warm up');
    fs.writeFileSync(path.join(dir, 'version.js'), versionSource('v2'));
    const end = await s.waitEvent('rollout.end', undefined, 15_000);
    expect(end.outcome).toBe('done');
    expect(end.replaced).toBe(2);
    const okAtEnd = traffic.result.ok;
    await until(() => traffic.result.ok > okAtEnd + 200, 10_000, 'load after the rollout');
    const result = await traffic.stop();
    expect(result.errors).toEqual([]);
    expect(result.failed).toBe(0);
    for (let i = 0; i < 6; i++) {
      const [version, pid] = (await get(port, '/')).body.trim().split(' ');
      expect(version).toBe('v2');
      expect(before.has(Number(pid))).toBe(false);
    }
    console.log(`watch reload under load: ${result.ok} ok, ${result.failed} failed, rollout ${end.durationMs} ms`);
  });
});
