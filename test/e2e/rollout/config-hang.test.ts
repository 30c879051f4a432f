/**
 * A config file whose load never settles (issue 27): an .mjs with a top-level await on a secrets fetch that
 * hangs. The reload is refused at --ready-timeout with one line, the master keeps serving, a later reload
 * works, and a SIGTERM while a load hangs ends with the stopped line and the real exit code.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { get } from '../../helpers/http.js';
import { fixture, freePort, killAll, supervise, tempDir, waitGone } from '../../helpers/supervise.js';

afterEach(() => killAll());

describe('a config file that never finishes loading', () => {
  it('SIGHUP: refused with one line at the bound, the workers serve, the next reload works, SIGTERM during a hang stops', async () => {
    const dir = tempDir();
    const port = await freePort();
    const file = path.join(dir, 'supervise.config.mjs');
    // --ready-timeout bounds a reload's load: the one in force, from the last load that worked.
    const options = (foo: string, readyTimeoutMs: number) =>
      JSON.stringify({
        script: fixture('rollout/env-app.js'),
        workers: 2,
        readyTimeoutMs,
        env: { FOO: foo, PORT: String(port) },
      });
    const config = (foo: string, { hang = false, readyTimeoutMs = 1500 } = {}) =>
      writeFileSync(
        file,
        `${hang ? 'await new Promise(() => {});\n' : ''}export default ${options(foo, readyTimeoutMs)};\n`,
      );
    const foo = async () => (JSON.parse((await get(port)).body) as { FOO: string }).FOO;

    config('a');
    const s = supervise([], { cwd: dir });
    await s.ready();
    const old = s.forkedPids();

    config('b', { hang: true });
    let mark = s.lines.length;
    s.signal('SIGHUP');
    const refused = await s.waitEvent('config.invalid', undefined, 10_000, mark);
    expect(refused.msg).toBe(
      'reload refused, the running configuration stays: supervise.config.mjs: did not finish loading within 1500 ms (a top-level await that never settles?)',
    );
    expect(s.events('rollout.start')).toHaveLength(0);
    expect(await foo()).toBe('a');
    expect(s.forkedPids()).toEqual(old);

    // Fixed: the next reload re-reads it and rolls. Its bound is long: the stop below must not wait for it.
    config('c', { readyTimeoutMs: 60_000 });
    mark = s.lines.length;
    s.signal('SIGHUP');
    expect(await s.waitEvent('rollout.end', undefined, 15_000, mark)).toMatchObject({ outcome: 'done', replaced: 2 });
    expect(await foo()).toBe('c');

    // Hanging again, and a stop while it hangs: the stop does not wait for it.
    config('d', { hang: true });
    mark = s.lines.length;
    s.signal('SIGHUP');
    await s.waitEvent('config.reading', undefined, 10_000, mark);
    s.signal('SIGTERM');
    const { code } = await s.waitExit(20_000);
    expect(code).toBe(0);
    expect(s.events('master.stopped')).toHaveLength(1);
    expect(s.events('master.stopped')[0]).toMatchObject({ exitCode: 0 });
    await waitGone([s.pid, ...s.forkedPids()]);
  });
});
