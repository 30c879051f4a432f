import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { beforeEach, describe, expect, it, vi } from 'vitest';

import { type ReconfigureHost, reloadOptions } from '../../src/config/reconfigure.js';
import { type RawOptions, resolveOptions, type SupervisorOptions } from '../../src/config/options.js';
import type { Logger } from '../../src/observe/logger.js';

// node:cluster's fork settings are the master's process state: the test only sees that they were set again.
const setupCluster = vi.hoisted(() => vi.fn());
vi.mock('../../src/worker/cluster-setup.js', () => ({ setupCluster }));

const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../examples/http-basic/server.js');
const opts = (raw: Partial<RawOptions> = {}): SupervisorOptions => resolveOptions({ script, workers: 2, ...raw });

/** A master as reloadOptions sees it: its options, a source the test sets, and what it was told. */
function fakeHost(source: ReconfigureHost['source'], options = opts()) {
  const logs: { level: string; event: unknown; msg: string }[] = [];
  const at = (level: string) => (o: { event?: unknown }, msg: string) => logs.push({ level, event: o.event, msg });
  const log = { info: at('info'), warn: at('warn'), error: at('error'), level: 'info' };
  const inputs = { vet: vi.fn(async () => {}), commit: vi.fn(), discard: vi.fn() };
  const scaled: number[] = [];
  const changed: (keyof SupervisorOptions)[][] = [];
  const abort = new AbortController();
  const host: ReconfigureHost = {
    source,
    signal: abort.signal,
    inputs,
    options,
    log: log as unknown as Logger,
    slots: () => 2,
    scale: async (n) => void scaled.push(n),
    changed: (keys) => void changed.push(keys),
  };
  const events = () => logs.map((l) => l.event);
  return { host, log, logs, events, inputs, scaled, changed, abort };
}

beforeEach(() => setupCluster.mockClear());

describe('reloadOptions (a reload re-reads the options)', () => {
  it('without a source the options stay; what they name is vetted and committed', async () => {
    const f = fakeHost(null);
    const before = JSON.stringify(f.host.options);
    expect(await reloadOptions(f.host)).toBeNull();
    expect(JSON.stringify(f.host.options)).toBe(before);
    expect(f.inputs.vet).toHaveBeenCalledTimes(1);
    expect(f.inputs.commit).toHaveBeenCalledTimes(1);
    expect(f.events()).toEqual([]);
  });

  it('a live option applies in place; one fixed at the start is named and kept', async () => {
    const f = fakeHost(async () => opts({ drainTimeoutMs: 7_000, accept: 'round-robin' }));
    expect(f.host.options.accept).not.toBe('round-robin');
    const accept = f.host.options.accept;
    expect(await reloadOptions(f.host)).toBeNull();
    expect(f.host.options.drainTimeoutMs).toBe(7_000);
    expect(f.host.options.accept).toBe(accept);
    expect(f.logs.find((l) => l.event === 'config.fixed')?.msg).toMatch(/next start of the master: accept$/);
    expect(f.logs.find((l) => l.event === 'config.reloaded')?.msg).toMatch(/drainTimeoutMs/);
    expect(f.changed).toEqual([['drainTimeoutMs']]);
    expect(setupCluster).not.toHaveBeenCalled();
  });

  it('a fork setting (node arguments) sets node:cluster up again; the log level applies to the logger', async () => {
    const f = fakeHost(async () => opts({ nodeArgs: ['--max-old-space-size=256'], logLevel: 'debug' }));
    expect(await reloadOptions(f.host)).toBeNull();
    expect(setupCluster).toHaveBeenCalledWith(f.host.options);
    expect(f.host.options.nodeArgs).toEqual(['--max-old-space-size=256']);
    expect(f.log.level).toBe('debug');
  });

  it('a new worker count goes through scale(), not into the options in place', async () => {
    const f = fakeHost(async () => opts({ workers: 4 }));
    expect(await reloadOptions(f.host)).toBeNull();
    // scale() itself waits for the rollout: the options' own count is left to it.
    expect(f.host.options.workers).toBe(2);
    await new Promise<void>((resolve) => queueMicrotask(resolve));
    expect(f.scaled).toEqual([4]);
    expect(f.changed).toEqual([]);
  });

  it('an invalid source is refused: the running options stay, what was read is discarded, one error line', async () => {
    const f = fakeHost(async () => {
      throw new Error('supervise.config.json: workers must be a number');
    });
    const before = JSON.stringify(f.host.options);
    expect(await reloadOptions(f.host)).toBe('supervise.config.json: workers must be a number');
    expect(JSON.stringify(f.host.options)).toBe(before);
    expect(f.inputs.discard).toHaveBeenCalledTimes(1);
    expect(f.inputs.commit).not.toHaveBeenCalled();
    expect(f.events()).toEqual(['config.invalid']);
  });

  it('inputs that fail their check (an unreadable .env file) refuse the reload too', async () => {
    const f = fakeHost(async () => opts({ drainTimeoutMs: 7_000 }));
    f.inputs.vet.mockRejectedValueOnce(new Error('cannot read .env.production'));
    expect(await reloadOptions(f.host)).toBe('cannot read .env.production');
    expect(f.host.options.drainTimeoutMs).not.toBe(7_000);
    expect(f.inputs.discard).toHaveBeenCalledTimes(1);
  });

  it('a load abandoned by the stop is not logged as refused', async () => {
    const f = fakeHost(async ({ signal }) => {
      f.abort.abort();
      throw new Error(signal.aborted ? 'stopping' : 'unexpected');
    });
    expect(await reloadOptions(f.host)).toBe('stopping');
    expect(f.events()).toEqual([]);
  });

  it('the source gets the reload bound (--ready-timeout) and the stop signal', async () => {
    const seen: { timeoutMs: number; aborted: boolean }[] = [];
    const f = fakeHost(async (limits) => {
      seen.push({ timeoutMs: limits.timeoutMs, aborted: limits.signal.aborted });
      return opts();
    });
    await reloadOptions(f.host);
    expect(seen).toEqual([{ timeoutMs: f.host.options.readyTimeoutMs, aborted: false }]);
    expect(f.logs.find((l) => l.event === 'config.reloaded')?.msg).toBe('configuration re-read: unchanged');
  });
});
