import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { findConfigFile, loadConfigFile, mergeOptions, validateConfig } from '../../src/config/config-file.js';
import { scaleTarget } from '../../src/control/server.js';
import { SuperviseError } from '../../src/errors.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'supervise-config-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configError(fn: () => unknown): SuperviseError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SuperviseError);
    const e = err as SuperviseError;
    expect(e.exitCode).toBe(2);
    expect(e.message).not.toMatch(/\n/);
    return e;
  }
  throw new Error('expected a SuperviseError');
}

describe('validateConfig', () => {
  it('names an unknown key and suggests the right one', () => {
    expect(configError(() => validateConfig({ wrokers: 2 }, dir)).message).toBe(
      'unknown key "wrokers" (did you mean "workers"?)',
    );
    expect(configError(() => validateConfig({ killTimeout: 5000 }, dir)).message).toMatch(
      /"killTimeout".*"killTimeoutMs"/,
    );
    expect(configError(() => validateConfig({ frobnicate: true }, dir)).message).toBe('unknown key "frobnicate"');
    expect(configError(() => validateConfig({ toString: 1 }, dir)).message).toMatch(/unknown key "toString"/);
  });

  it('names the key whose value is wrong', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ workers: 0 }, /^workers must be a positive integer/],
      [{ killTimeoutMs: 'soon' }, /^killTimeoutMs must be a duration/],
      [{ killTimeoutMs: 0 }, /^killTimeoutMs must be greater than 0|^killTimeoutMs must be a duration/],
      [{ surge: 0 }, /^surge must be an integer from 1 to 1024/],
      [{ autoDrain: 'yes' }, /^autoDrain must be true or false, got "yes"/],
      [{ env: { A: { nested: 1 } } }, /^env must be an object of strings/],
      [{ env: ['NOEQUALS'] }, /KEY=VALUE/],
      [{ args: 'one' }, /^args must be a list of strings/],
      [{ logLevel: 'loud' }, /^logLevel must be one of fatal, error/],
      [{ healthPort: 70000 }, /^healthPort must be an integer from 0 to 65535/],
      [{ script: 42 }, /^script must be a non-empty string, got 42/],
    ];
    for (const [config, message] of cases)
      expect(configError(() => validateConfig(config, dir)).message).toMatch(message);
  });

  it('rejects a file that is not an object of options', () => {
    expect(configError(() => validateConfig([1, 2], dir)).message).toMatch(/object of options/);
    expect(configError(() => validateConfig(null, dir)).message).toMatch(/object of options/);
  });

  it('accepts every option and resolves relative paths against the file', () => {
    const raw = validateConfig(
      {
        script: 'server.js',
        cwd: 'app',
        workers: 'max',
        killTimeoutMs: '10s',
        watch: ['src'],
        control: 'run/ctl.sock',
        pidFile: 'm.pid',
        healthPort: null,
        env: { A: 1 },
      },
      '/srv/site',
    );
    expect(raw.cwd).toBe('/srv/site/app');
    expect(raw.script).toBe('/srv/site/app/server.js');
    expect(raw.watch).toEqual(['/srv/site/src']);
    expect(raw.control).toBe('/srv/site/run/ctl.sock');
    expect(raw.pidFile).toBe('/srv/site/m.pid');
    expect(raw.killTimeoutMs).toBe('10s');
  });
});

describe('mergeOptions', () => {
  it('lets the flags override the file, and keeps the file args when none are given', () => {
    const merged = mergeOptions(
      { workers: 3, surge: 2, args: ['--from-file'] },
      { workers: '2', script: undefined, args: [] },
    );
    expect(merged).toEqual({ workers: '2', surge: 2, args: ['--from-file'] });
    expect(mergeOptions({ args: ['a'] }, { args: ['b'] }).args).toEqual(['b']);
  });
});

describe('loadConfigFile', () => {
  it('reads json, mjs and cjs files; an error is one line that starts with the file name', async () => {
    const json = path.join(dir, 'a.json');
    writeFileSync(json, '{"workers": 2,}');
    await expect(loadConfigFile(json)).rejects.toThrow(/^a\.json: invalid JSON at line \d+, column \d+: /);
    const mjs = path.join(dir, 'b.mjs');
    writeFileSync(mjs, 'export default { workers: 3, logLevel: "warn" };');
    expect(await loadConfigFile(mjs)).toEqual({ workers: 3, logLevel: 'warn' });
    const cjs = path.join(dir, 'c.cjs');
    writeFileSync(cjs, 'module.exports = { surge: 2 };');
    expect(await loadConfigFile(cjs)).toEqual({ surge: 2 });
  });

  it('finds one supervise.config.* and refuses two', () => {
    const d = mkdtempSync(path.join(dir, 'find-'));
    expect(findConfigFile(undefined, d)).toBeNull();
    writeFileSync(path.join(d, 'supervise.config.json'), '{}');
    expect(findConfigFile(undefined, d)).toBe(path.join(d, 'supervise.config.json'));
    writeFileSync(path.join(d, 'supervise.config.mjs'), 'export default {}');
    expect(() => findConfigFile(undefined, d)).toThrow(/several config files/);
    expect(() => findConfigFile('nope.json', d)).toThrow(/--config: no such file/);
  });
});

describe('scaleTarget', () => {
  it('takes n, +n and -n, and keeps at least one worker', () => {
    expect(scaleTarget('4', 2)).toBe(4);
    expect(scaleTarget('+2', 2)).toBe(4);
    expect(scaleTarget('-1', 2)).toBe(1);
    expect(() => scaleTarget('-2', 2)).toThrow(/at least 1/);
    expect(() => scaleTarget('x', 2)).toThrow(/expected n, \+n, -n or max/);
  });
});

describe('loadConfigFile: a load that never settles', () => {
  it('fails with one line at its bound, or at once when the signal aborts', async () => {
    const file = path.join(dir, 'supervise.config.mjs');
    writeFileSync(file, 'await new Promise(() => {});\nexport default { workers: 1 };\n');
    await expect(loadConfigFile(file, undefined, { timeoutMs: 50 })).rejects.toThrow(
      'supervise.config.mjs: did not finish loading within 50 ms (a top-level await that never settles?)',
    );
    const stop = new AbortController();
    const pending = loadConfigFile(file, undefined, { timeoutMs: 60_000, signal: stop.signal });
    stop.abort();
    await expect(pending).rejects.toThrow('supervise.config.mjs: loading was abandoned: the master is stopping');
    // A file that loads is not affected by the bound (another file: vitest's loader keeps the pending one).
    const fine = path.join(dir, 'fine.config.mjs');
    writeFileSync(fine, 'export default { workers: 3 };\n');
    expect(await loadConfigFile(fine, undefined, { timeoutMs: 5_000 })).toEqual({ workers: 3 });
  });
});
