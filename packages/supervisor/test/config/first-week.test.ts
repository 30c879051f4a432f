import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { isEcosystemScript } from '../../src/config/ecosystem-detect.js';
import { originsOf, WorkerCount } from '../../src/config/effective.js';
import { mergeEnv, splitEnvFlag } from '../../src/config/env-select.js';
import type { SupervisorOptions } from '../../src/config/options.js';
import { parseCheck } from '../../src/config/syntax-position.js';
import { closest } from '../../src/cli/suggest.js';
import type { Logger } from '../../src/observe/logger.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'supervise-first-week-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function logger(): { log: Logger; lines: { source: unknown; msg: string }[] } {
  const lines: { source: unknown; msg: string }[] = [];
  const log = { info: (o: { source: unknown }, msg: string) => lines.push({ source: o.source, msg }) };
  return { log: log as unknown as Logger, lines };
}

const opts = (workers: number) => ({ workers }) as SupervisorOptions;

describe('--env words', () => {
  it('splits KEY=VALUE pairs from one environment name; the flags win over the file', () => {
    expect(splitEnvFlag(['A=1', 'production', 'B=2'])).toEqual({ pairs: ['A=1', 'B=2'], name: 'production' });
    expect(splitEnvFlag(undefined)).toEqual({ pairs: undefined, name: null });
    expect(() => splitEnvFlag(['production', 'staging'])).toThrow(/one environment at a time/);
    expect(mergeEnv({ PORT: 8080, A: 'file' }, ['A=flag'])).toEqual({ PORT: '8080', A: 'flag' });
  });
});

describe('the worker count through reloads', () => {
  it('keeps a runtime scale while the configured count is unchanged, applies a changed one', () => {
    const { log, lines } = logger();
    const count = new WorkerCount(2, 'file');
    expect(count.scaled(2)).toBe(false);
    expect(count.decide(opts(2), 'file', 3, log)).toBe(3);
    expect(lines.at(-1)!.source).toBe('scale');
    expect(count.scaled(3)).toBe(true);
    expect(count.decide(opts(4), 'file', 3, log)).toBe(4);
    expect(lines.at(-1)).toEqual({ source: 'file', msg: '4 workers, from the config file (it asked for 2 before)' });
    expect(count.decide(opts(4), 'file', 4, log)).toBe(4);
    expect(lines).toHaveLength(2);
  });

  it('origins: flag, file, both for env', () => {
    expect(originsOf({ workers: 3, env: ['A=1'] }, { workers: 2, env: { B: '1' }, script: 'a.js' })).toMatchObject({
      workers: 'flag',
      env: 'flag+file',
      script: 'file',
    });
  });
});

describe('PM2 files by content', () => {
  it('module.exports / export default with apps, or JSON with an apps list; not an app exporting an object', () => {
    const file = (name: string, text: string) => {
      writeFileSync(path.join(dir, name), text);
      return path.join(dir, name);
    };
    expect(isEcosystemScript(file('a.js', "module.exports = {\n  apps: [{ script: 'x.js' }],\n};\n"))).toBe(true);
    expect(isEcosystemScript(file('b.mjs', 'const apps = [];\nexport default { apps };\n'))).toBe(true);
    expect(isEcosystemScript(file('c.json', '{"apps": []}'))).toBe(true);
    expect(isEcosystemScript(file('d.js', 'module.exports = { start() { return { apps: [] }; } };\n'))).toBe(false);
    expect(isEcosystemScript(file('e.js', "require('http').createServer().listen(3000);\n"))).toBe(false);
    expect(isEcosystemScript(file('f.json', '{"name": "x"}'))).toBe(false);
  });
});

describe('suggestions and positions', () => {
  it('a command one or two letters away', () => {
    const commands = ['status', 'reload', 'stop', 'scale', 'list', 'top', 'logs', 'config', 'systemd'];
    expect(closest('satus', commands)).toBe('status');
    expect(closest('relaod', commands)).toBe('reload');
    expect(closest('server', commands)).toBeNull();
    expect(closest('app', commands)).toBeNull();
  });

  it("reads node --check's file:line and caret column", () => {
    const stderr = '/srv/a/x.mjs:3\n  workers: 2,\n  ^^^^^^^\n\nSyntaxError: Unexpected identifier\n';
    expect(parseCheck(stderr, '/srv/a/x.mjs')).toBe('x.mjs:3:3');
    expect(parseCheck('something else\n', '/srv/a/x.mjs')).toBeNull();
  });
});
