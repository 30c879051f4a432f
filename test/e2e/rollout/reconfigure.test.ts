/**
 * A reload applies the new configuration (issue 19): SIGHUP, `supervise reload` and a watch reload re-read the
 * config file; what can change live does, what cannot is named, and a broken file changes nothing.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { get, load, until } from '../../helpers/http.js';
import { fixture, freePort, killAll, runCli, supervise, tempDir, waitGone } from '../../helpers/supervise.js';

afterEach(() => killAll());

interface EnvAnswer {
  pid: number;
  FOO?: string;
}

const env = async (port: number) => JSON.parse((await get(port)).body) as EnvAnswer;

describe('reload re-reads the config file', () => {
  it('an env value changed in the file reaches the new workers after a SIGHUP, under load, with 0 failed', async () => {
    const dir = tempDir();
    const port = await freePort();
    const file = path.join(dir, 'supervise.config.json');
    const config = (foo: string, extra: object = {}) =>
      writeFileSync(
        file,
        JSON.stringify(
          { script: fixture('rollout/env-app.js'), workers: 2, env: { FOO: foo, PORT: String(port) }, ...extra },
          null,
          2,
        ),
      );
    config('a');
    const s = supervise([], { cwd: dir });
    await s.ready();
    expect((await s.waitEvent('config.loaded')).file).toBe(file);
    expect((await env(port)).FOO).toBe('a');

    const traffic = load(port, { connections: 10, maxMs: 30_000 });
    await until(() => traffic.result.ok > 100, 10_000, 'the load to warm up');
    config('b');
    const hup = s.lines.length;
    s.signal('SIGHUP');
    expect(await s.waitEvent('config.reloaded', undefined, 10_000, hup)).toMatchObject({ changed: ['env'] });
    expect(await s.waitEvent('rollout.end', undefined, 15_000, hup)).toMatchObject({ outcome: 'done', replaced: 2 });
    const answers = await Promise.all(Array.from({ length: 10 }, () => env(port)));
    expect(new Set(answers.map((a) => a.FOO))).toEqual(new Set(['b']));
    const done = traffic.result.ok;
    await until(() => traffic.result.ok > done + 100, 10_000, 'load after the rollout');
    const r = await traffic.stop();
    expect(r.errors).toEqual([]);
    expect(r.failed).toBe(0);

    // More workers in the file: the rollout, then a scale to 3.
    config('b', { workers: 3 });
    const more = s.lines.length;
    s.signal('SIGHUP');
    await s.waitEvent('rollout.end', undefined, 15_000, more);
    await until(() => s.servingPids().length === 3, 10_000, 'three workers');

    // A value that cannot change live is named, and the rest still applies.
    config('c', { workers: 3, healthPort: await freePort() });
    const fixed = s.lines.length;
    s.signal('SIGHUP');
    expect(await s.waitEvent('config.fixed', undefined, 10_000, fixed)).toMatchObject({ keys: ['healthPort'] });
    await s.waitEvent('rollout.end', (l) => l.outcome === 'done', 15_000, fixed);
    expect((await env(port)).FOO).toBe('c');
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
  });

  it('a broken config file leaves every worker in place, with one line saying why, and supervise reload exits 2', async () => {
    const dir = tempDir();
    const port = await freePort();
    const file = path.join(dir, 'supervise.config.json');
    writeFileSync(
      file,
      JSON.stringify({ script: fixture('rollout/env-app.js'), workers: 2, env: { FOO: 'a', PORT: String(port) } }),
    );
    const s = supervise([], { cwd: dir });
    await s.ready();
    const sock = (await s.waitEvent('control.listening')).path as string;
    const before = s.servingPids().sort();

    writeFileSync(file, '{\n  "script": "x.js",\n  "workers": 2,\n}\n');
    const hup = s.lines.length;
    s.signal('SIGHUP');
    const refused = await s.waitEvent('config.invalid', undefined, 10_000, hup);
    expect(refused.msg).toMatch(
      /^reload refused, the running configuration stays: supervise\.config\.json: invalid JSON at line 4, column 1: /,
    );
    const viaCli = await runCli(['reload', '--control', sock]);
    expect(viaCli.code).toBe(2);
    expect(viaCli.stderr).toMatch(
      /^supervise: reload refused, nothing was restarted: supervise\.config\.json: invalid JSON at line 4, column 1/,
    );

    writeFileSync(file, JSON.stringify({ script: fixture('rollout/env-app.js'), workers: 'many' }));
    const bad = await runCli(['reload', '--control', sock]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/workers must be/);
    expect(s.events('rollout.start')).toEqual([]);
    expect(s.servingPids().sort()).toEqual(before);
    expect((await env(port)).FOO).toBe('a');
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
    await waitGone(before);
  });
});
