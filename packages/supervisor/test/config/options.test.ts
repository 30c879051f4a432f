import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { SuperviseError } from '../../src/errors.js';
import { parseDuration, parseEnv, parseWorkers, resolveOptions, splitArgs } from '../../src/config/options.js';

const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../examples/http-basic/server.js');

function usageError(fn: () => unknown): SuperviseError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SuperviseError);
    return err as SuperviseError;
  }
  throw new Error('expected a SuperviseError');
}

describe('option parsing', () => {
  it('sticky: needs a PORT (from --env or the environment); --trust-proxy only with it', () => {
    expect(resolveOptions({ script, sticky: true, env: ['PORT=3100'] }).sticky).toEqual({
      port: 3100,
      trustProxy: false,
    });
    expect(resolveOptions({ script, sticky: true, trustProxy: true, env: { PORT: '3101' } }).sticky).toEqual({
      port: 3101,
      trustProxy: true,
    });
    expect(resolveOptions({ script }).sticky).toBeNull();
    const saved = process.env.PORT;
    delete process.env.PORT;
    try {
      expect(usageError(() => resolveOptions({ script, sticky: true })).message).toMatch(
        /^--sticky needs the app's port in PORT/,
      );
    } finally {
      if (saved !== undefined) process.env.PORT = saved;
    }
    expect(usageError(() => resolveOptions({ script, sticky: true, env: ['PORT=http'] })).message).toMatch(
      /^PORT must be/,
    );
    expect(usageError(() => resolveOptions({ script, trustProxy: true })).message).toMatch(
      /^--trust-proxy only applies with --sticky/,
    );
  });

  it('accept: shared by default, round-robin with --no-auto-drain (nothing could balance it), an explicit choice wins', () => {
    expect(resolveOptions({ script }).accept).toBe('shared');
    expect(resolveOptions({ script, autoDrain: false }).accept).toBe('round-robin');
    expect(resolveOptions({ script, autoDrain: false, accept: 'shared' }).accept).toBe('shared');
    expect(resolveOptions({ script, accept: 'round-robin' }).accept).toBe('round-robin');
    expect(usageError(() => resolveOptions({ script, accept: 'fast' })).message).toBe(
      '--accept must be shared or round-robin, got "fast"',
    );
  });

  it('workers: positive integers and "max"', () => {
    expect(parseWorkers('4')).toBe(4);
    expect(parseWorkers(2)).toBe(2);
    expect(parseWorkers('max')).toBe(os.availableParallelism());
    expect(usageError(() => parseWorkers('0')).exitCode).toBe(2);
    expect(usageError(() => parseWorkers('abc')).message).toBe(
      '--workers must be a positive integer or "max", got "abc"',
    );
    expect(usageError(() => parseWorkers('1.5')).code).toBe('ERR_USAGE');
    expect(usageError(() => parseWorkers('-3')).code).toBe('ERR_USAGE');
  });

  it('durations: plain ms or with a unit', () => {
    expect(parseDuration('1500', '--x')).toBe(1500);
    expect(parseDuration('500ms', '--x')).toBe(500);
    expect(parseDuration('30s', '--x')).toBe(30_000);
    expect(parseDuration('1.5m', '--x')).toBe(90_000);
    expect(parseDuration('6h', '--x')).toBe(21_600_000);
    expect(parseDuration(250, '--x')).toBe(250);
    expect(usageError(() => parseDuration('soon', '--kill-timeout')).message).toMatch(
      /^--kill-timeout must be a duration/,
    );
    expect(usageError(() => parseDuration('0', '--ready-timeout', { allowZero: false })).code).toBe('ERR_USAGE');
  });

  it('env pairs and node args', () => {
    expect(parseEnv(['A=1', 'B=x=y'])).toEqual({ A: '1', B: 'x=y' });
    expect(parseEnv({ PORT: 3000 })).toEqual({ PORT: '3000' });
    expect(usageError(() => parseEnv(['nope'])).message).toMatch(/KEY=VALUE/);
    expect(splitArgs('--import tsx --max-old-space-size=512')).toEqual(['--import', 'tsx', '--max-old-space-size=512']);
    expect(splitArgs('--title "a b"')).toEqual(['--title', 'a b']);
    // Quotes inside a word group too, as in a shell: one word, without the quotes.
    expect(splitArgs('--title="my app" --inspect')).toEqual(['--title=my app', '--inspect']);
    expect(splitArgs("--require './setup file.js'")).toEqual(['--require', './setup file.js']);
    expect(splitArgs('a\\ b "" c')).toEqual(['a b', '', 'c']);
    expect(() => splitArgs('--title="my app')).toThrow(/--node-args: unmatched "/);
  });

  it('resolves defaults once, with the drain deadline inside the kill timeout', () => {
    const o = resolveOptions({ script, workers: '2', killTimeoutMs: '10s' });
    expect(o.script).toBe(script);
    expect(o.workers).toBe(2);
    expect(o.killTimeoutMs).toBe(10_000);
    expect(o.drainTimeoutMs).toBeLessThan(o.killTimeoutMs);
    expect(o.drainTimeoutMs).toBeGreaterThanOrEqual(8_000);
    expect(o.autoDrain).toBe(true);
    expect(o.surge).toBe(1);
    expect(o.watch).toBeNull();
  });

  it('--watch with no path watches the script directory', () => {
    const o = resolveOptions({ script, watch: true });
    expect(o.watch).toEqual([path.dirname(script)]);
  });

  it('rejects a drain timeout that is not shorter than the kill timeout', () => {
    expect(usageError(() => resolveOptions({ script, killTimeoutMs: 1000, drainTimeoutMs: 1000 })).message).toMatch(
      /--drain-timeout must be shorter than --kill-timeout/,
    );
  });

  it('a missing script is its own error code, still exit 2', () => {
    const err = usageError(() => resolveOptions({ script: 'nope.js' }));
    expect(err.code).toBe('ERR_SCRIPT_NOT_FOUND');
    expect(err.exitCode).toBe(2);
  });
});
