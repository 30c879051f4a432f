/**
 * Log files (issue 31): --log-file with rotation by size and a number of files kept, every line of every file
 * whole under 4 chatty workers; SIGUSR1 and `supervise logs --reopen` reopen the file after logrotate moved it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { get, until } from '../../helpers/http.js';
import { fixture, freePort, killAll, runCli, supervise, tempDir } from '../../helpers/supervise.js';

afterEach(() => killAll());

interface Line {
  event?: string;
  src?: string;
  pid?: number;
  msg?: string;
  [key: string]: unknown;
}

/** Every line of a log file, parsed: a line that is not a whole JSON object fails the test, naming it. */
function linesOf(file: string): Line[] {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (text === '') return [];
  expect(text.endsWith('\n'), `${file} ends in the middle of a line`).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((raw) => {
      try {
        return JSON.parse(raw) as Line;
      } catch {
        throw new Error(`${path.basename(file)}: a line that is not whole JSON: ${raw.slice(0, 200)}`);
      }
    });
}

/** Waits until the file at `file` holds a line `pred` accepts. */
function untilLine(file: string, pred: (l: Line) => boolean, what: string, timeoutMs = 20_000): Promise<Line> {
  return until(() => linesOf(file).find(pred), timeoutMs, `${what} in ${path.basename(file)}`);
}

/** `n` requests, `parallel` at a time on fresh connections, each answered: the workers print a line each. */
async function requests(port: number, n: number, parallel: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n) {
        next++;
        expect((await get(port)).status).toBe(200);
      }
    }),
  );
}

describe('--log-file', () => {
  it('rotates at the size with 4 chatty workers: every line whole, --log-keep files kept, nothing on stdout', async () => {
    const dir = tempDir();
    const port = await freePort();
    const log = path.join(dir, 'app.log');
    const s = supervise(
      [fixture('observe/chatty-app.js'), '-w', '4', '--log-file', log, '--log-max-size', '4K', '--log-keep', '3'],
      { env: { PORT: String(port) } },
    );
    await untilLine(log, (l) => l.event === 'master.ready', 'master.ready');
    const sock = (await untilLine(log, (l) => l.event === 'control.listening', 'control.listening')).path as string;
    // About 120 bytes a line: 600 lines are some 18 rotations of 4 KB.
    await requests(port, 600, 8);
    expect((await runCli(['stop', '--control', sock])).code).toBe(0);
    expect((await s.exited).code).toBe(0);

    const files = readdirSync(dir).sort();
    expect(files).toEqual(['app.log', 'app.log.1', 'app.log.2', 'app.log.3']);
    const served = new Set<string>();
    for (const f of files) {
      const full = path.join(dir, f);
      expect(readFileSync(full).length).toBeLessThanOrEqual(4096);
      for (const line of linesOf(full)) {
        if (line.src !== 'worker') continue;
        // A worker's line is one of the two the app prints, whole: never two workers' lines in one.
        expect(line.msg).toMatch(/^(served request \d+ in \d+|chatty app \d+ listening)$/);
        if (line.msg?.startsWith('served')) expect(line.msg.endsWith(` in ${line.pid}`)).toBe(true);
        served.add(String(line.msg));
      }
    }
    // The newest files hold the last requests and the stop.
    expect(served.size).toBeGreaterThan(20);
    expect(linesOf(log).some((l) => l.event === 'master.stopped')).toBe(true);
    expect(s.stdout).toBe('');
  });

  it('SIGUSR1 and `supervise logs --reopen` start a new file at the path after logrotate moved it', async () => {
    const dir = tempDir();
    const port = await freePort();
    const log = path.join(dir, 'app.log');
    const s = supervise([fixture('observe/chatty-app.js'), '-w', '2', '--log-file', log], {
      env: { PORT: String(port) },
    });
    await untilLine(log, (l) => l.event === 'master.ready', 'master.ready');
    const sock = (await untilLine(log, (l) => l.event === 'control.listening', 'control.listening')).path as string;

    // As logrotate's default (create) does: rename, then have the writer reopen.
    renameSync(log, path.join(dir, 'app.log-1'));
    process.kill(s.pid, 'SIGUSR1');
    await untilLine(log, (l) => l.event === 'log.reopened', 'log.reopened after SIGUSR1');
    const pid = Number((await get(port)).body);
    await untilLine(log, (l) => l.msg === `served request 1 in ${pid}`, "the worker's line");
    const moved = linesOf(path.join(dir, 'app.log-1'));
    expect(moved.some((l) => l.event === 'master.ready')).toBe(true);
    expect(moved.some((l) => l.src === 'worker' && l.msg?.startsWith('served'))).toBe(false);

    renameSync(log, path.join(dir, 'app.log-2'));
    const reopen = await runCli(['logs', '--reopen', '--control', sock]);
    expect(reopen).toMatchObject({ code: 0, stdout: `reopened ${log}\n` });
    await untilLine(log, (l) => l.event === 'log.reopened', 'log.reopened after logs --reopen');
    expect(linesOf(path.join(dir, 'app.log-2')).some((l) => l.event === 'log.reopened')).toBe(true);
    expect(s.stdout).toBe('');
  });

  it("a PM2 file's out_file and error_file: one log file at out_file, error_file named as ignored", async () => {
    const dir = tempDir();
    const port = await freePort();
    mkdirSync(path.join(dir, 'logs'));
    writeFileSync(
      path.join(dir, 'ecosystem.config.js'),
      `module.exports = { apps: [{ name: 'api', script: ${JSON.stringify(fixture('observe/chatty-app.js'))}, instances: 2,
        env: { PORT: ${port} }, out_file: 'logs/out.log', error_file: 'logs/err.log' }] };\n`,
    );
    const s = supervise(['ecosystem.config.js'], { cwd: dir });
    const log = path.join(dir, 'logs', 'out.log');
    await untilLine(log, (l) => l.event === 'master.ready', 'master.ready');
    const pid = Number((await get(port)).body);
    await untilLine(log, (l) => l.msg === `served request 1 in ${pid}`, "the worker's stdout line");
    // The app's stderr line is in the same file, marked as such.
    expect(
      linesOf(log).some((l) => l.src === 'worker' && l.stream === 'stderr' && /listening$/.test(String(l.msg))),
    ).toBe(true);
    expect(linesOf(log).some((l) => /ignored error_file: /.test(String(l.msg)))).toBe(true);
    expect(existsSync(path.join(dir, 'logs', 'err.log'))).toBe(false);
    expect(s.stdout).toBe('');
  });

  it('a log file that cannot be opened: one line, exit 2', async () => {
    const dir = tempDir();
    const bad = path.join(dir, 'missing', 'app.log');
    const r = await runCli([fixture('observe/chatty-app.js'), '--log-file', bad]);
    expect(r).toMatchObject({ code: 2, stderr: `supervise: --log-file: cannot open ${bad}: ENOENT\n` });
  });
});
