import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { pidsAnswering } from '../../helpers/http.js';
import { CLI, fixture, freePort, killAll, supervise, waitGone } from '../../helpers/supervise.js';

afterEach(() => killAll());

const tmp = mkdtempSync(path.join(os.tmpdir(), 'supervise-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A directory holding one config file. */
function project(name: string, file: string, content: string): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, file), content);
  return dir;
}

function run(args: string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, timeout: 10_000 }, (err, _stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr }),
    );
  });
}

async function expectConfigError(args: string[], cwd: string, pattern: RegExp): Promise<void> {
  const r = await run(args, cwd);
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^supervise: /);
  expect(lines[0]).toMatch(pattern);
}

describe('config file', () => {
  it('a bad config file: one line naming the key, exit 2', async () => {
    const app = fixture('observe/ops-app.js');
    await Promise.all([
      expectConfigError(
        [],
        project('unknown', 'supervise.config.json', JSON.stringify({ script: app, wrokers: 2 })),
        /^supervise: supervise\.config\.json: unknown key "wrokers" \(did you mean "workers"\?\)$/,
      ),
      expectConfigError(
        [],
        project(
          'value',
          'supervise.config.mjs',
          `export default { script: ${JSON.stringify(app)}, killTimeoutMs: 'soon' };`,
        ),
        /^supervise: supervise\.config\.mjs: killTimeoutMs must be a duration such as 500, 500ms, 30s or 5m, got "soon"$/,
      ),
      expectConfigError(
        [],
        project('json', 'supervise.config.json', '{ "workers": 2, }'),
        /^supervise: supervise\.config\.json: invalid JSON at line 1, column 17: /,
      ),
      expectConfigError(['--config', 'missing.json'], tmp, /--config: no such file: .*missing\.json/),
      // Flags are checked after the merge like always: a bad flag still names the flag.
      expectConfigError(
        ['-w', 'zero'],
        project('flag', 'supervise.config.json', JSON.stringify({ script: app })),
        /--workers must be a positive integer or "max", got "zero"/,
      ),
    ]);
  });

  it('the file gives the options (script included) and the flags override it', async () => {
    const port = await freePort();
    const dir = project(
      'override',
      'supervise.config.mjs',
      `export default { script: ${JSON.stringify(fixture('observe/ops-app.js'))}, workers: 3, env: { PORT: ${port} }, logFormat: 'json', surge: 2 };`,
    );
    const s = supervise(['-w', '2'], { cwd: dir });
    await s.ready();
    expect(s.events('master.start')[0]).toMatchObject({ workers: 2, script: fixture('observe/ops-app.js') });
    expect(s.forkedPids()).toHaveLength(2);
    // The file's env reached the workers: they listen on its PORT.
    const pids = await pidsAnswering(port, 8);
    expect([...pids].every((pid) => s.forkedPids().includes(pid))).toBe(true);
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
    await waitGone([s.pid, ...s.forkedPids()]);
  });
});
