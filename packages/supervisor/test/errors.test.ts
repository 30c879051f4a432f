import { describe, expect, it, vi } from 'vitest';

import { EXIT, EXIT_CODES, SuperviseError } from '../src/errors.js';
import { MASTER_SIGNALS } from '../src/master/signals.js';

describe('the exit codes and the signals: one table each', () => {
  it('EXIT is the table of exit codes by name, with a meaning for each', () => {
    expect(EXIT).toEqual({
      ok: 0,
      forced: 1,
      usage: 2,
      bootFailure: 3,
      portInUse: 4,
      control: 5,
      canary: 6,
      noWorker: 7,
      timeout: 124,
      internal: 70,
      sigint: 130,
      sigterm: 143,
    });
    for (const { meaning } of Object.values(EXIT_CODES)) expect(meaning.length).toBeGreaterThan(0);
    expect(new SuperviseError('ERR_PORT_IN_USE', 'x').exitCode).toBe(EXIT.portInUse);
  });

  it('the master owns its signals as nginx and gunicorn do: USR1 reopens the log file, USR2 upgrades', () => {
    expect(MASTER_SIGNALS.map((s) => `${s.signal}:${s.action}`)).toEqual([
      'SIGHUP:reload',
      'SIGTERM:stop',
      'SIGINT:stop',
      'SIGUSR1:reopen',
      'SIGUSR2:upgrade',
    ]);
  });

  it("a SuperviseError from another copy of errors.ts is one (the master's option-only files bundle their own)", async () => {
    vi.resetModules();
    const other = (await import('../src/errors.js')) as typeof import('../src/errors.js');
    expect(other.SuperviseError).not.toBe(SuperviseError);
    const err = new other.SuperviseError('ERR_PORT_IN_USE', 'port 3000 is in use');
    expect(err).toBeInstanceOf(SuperviseError);
    expect(new SuperviseError('ERR_USAGE', 'x')).toBeInstanceOf(other.SuperviseError);
    expect(new Error('x')).not.toBeInstanceOf(SuperviseError);
    expect(null).not.toBeInstanceOf(SuperviseError);
    expect(Object.create(Error.prototype)).not.toBeInstanceOf(SuperviseError);
    // A subclass is told by its own prototype.
    class PortError extends SuperviseError {}
    expect(new PortError('ERR_PORT_IN_USE', 'x')).toBeInstanceOf(SuperviseError);
    expect(new PortError('ERR_PORT_IN_USE', 'x')).toBeInstanceOf(PortError);
    expect(err).not.toBeInstanceOf(PortError);
    // Still an Error of its own, its brand not among what a log or JSON shows.
    expect(err).toBeInstanceOf(Error);
    expect(Object.keys(err).sort()).toEqual(['code', 'details', 'exitCode', 'name']);
  });
});
