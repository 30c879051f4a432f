import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import {
  CLI_ONLY_FLAGS,
  FOLDED,
  flagName,
  helpText,
  OPTION_KEYS,
  OPTIONS,
  RELOAD_RULES,
} from '../../src/config/option-table.js';
import { resolveOptions } from '../../src/config/options.js';
import { diffOptions, WATCH_OPTIONS } from '../../src/config/reconfigure.js';

const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../examples/http-basic/server.js');

describe('the option table: one entry per option', () => {
  it('has an entry for every field resolveOptions fills, and for the folded keys, and no other', () => {
    const resolved = Object.keys(resolveOptions({ script }));
    expect(new Set(OPTION_KEYS)).toEqual(new Set([...resolved, ...Object.keys(FOLDED)]));
    for (const [folded, host] of Object.entries(FOLDED)) {
      expect(resolved).not.toContain(folded);
      expect(resolved).toContain(host);
    }
  });

  it('every entry decides what a reload does with it, from the known rules', () => {
    for (const key of OPTION_KEYS) expect(Object.keys(RELOAD_RULES), key).toContain(OPTIONS[key].reload);
    // A folded option applies with the option it is folded into.
    for (const [folded, host] of Object.entries(FOLDED)) {
      expect(OPTIONS[folded as keyof typeof FOLDED].reload).toBe(OPTIONS[host].reload);
    }
  });

  it('keeps the reload rules the master had before the table held them', () => {
    const restart = OPTION_KEYS.filter((k) => OPTIONS[k].reload === 'restart' && !Object.hasOwn(FOLDED, k));
    expect(new Set(restart)).toEqual(
      new Set([
        'control',
        'pidFile',
        'healthPort',
        'healthHost',
        'logFormat',
        'accept',
        'sticky',
        'ipcSerialization',
        'logFile',
        'logMaxSize',
        'logMaxAgeMs',
        'logKeep',
      ]),
    );
    expect(new Set(WATCH_OPTIONS)).toEqual(new Set(['watch', 'ignore', 'watchDebounceMs', 'watchPoll']));
    const fork = OPTION_KEYS.filter((k) => OPTIONS[k].reload === 'fork');
    expect(new Set(fork)).toEqual(new Set(['script', 'args', 'nodeArgs', 'cwd']));
  });

  it('diffOptions sorts changed keys by their entry: restart-only ones are fixed, the rest live', () => {
    const a = resolveOptions({ script, workers: 2 });
    const b = resolveOptions({ script, workers: 3, healthPort: 9000, killTimeoutMs: 9000, logLevel: 'debug' });
    const change = diffOptions(a, b);
    expect(change.fixed).toEqual(['healthPort']);
    expect(new Set(change.live)).toEqual(new Set(['workers', 'killTimeoutMs', 'drainTimeoutMs', 'logLevel']));
  });

  it('flags and their names are unique, and every option with a flag has a help line', () => {
    const flags = OPTION_KEYS.filter((k) => OPTIONS[k].flags);
    const names = flags.map(flagName);
    expect(new Set(names).size).toBe(names.length);
    for (const { flags: cli } of CLI_ONLY_FLAGS) expect(names).not.toContain(cli.split(' ')[0]);
    for (const key of OPTION_KEYS) {
      expect(OPTIONS[key].help.length, key).toBeGreaterThan(0);
      expect(OPTIONS[key].value.length, key).toBeGreaterThan(0);
    }
    expect(flagName('autoDrain')).toBe('--auto-drain');
    expect(flagName('workers')).toBe('--workers');
    expect(flagName('args')).toBe('args');
  });

  it('a plain default passes its own check and parses to itself', () => {
    for (const key of OPTION_KEYS) {
      const entry = OPTIONS[key];
      if (entry.default === undefined) continue;
      expect(() => entry.check(entry.default, key), key).not.toThrow();
    }
    const resolved = resolveOptions({ script }) as unknown as Record<string, unknown>;
    for (const key of OPTION_KEYS) {
      const entry = OPTIONS[key];
      if (entry.default === undefined || Object.hasOwn(FOLDED, key)) continue;
      expect(resolved[key], key).toEqual(entry.default);
    }
  });

  it('the help line names the default', () => {
    expect(helpText(OPTIONS.killTimeoutMs)).toBe('a draining worker is SIGKILLed after this (default 30000)');
    expect(helpText(OPTIONS.watchPoll)).toBe('poll instead of inotify (network file systems, some containers)');
    expect(helpText(OPTIONS.maxAgeMs)).toBe('recycle a worker older than this, e.g. 6h (default 0: off)');
  });
});
