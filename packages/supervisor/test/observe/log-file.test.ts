import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { LogFile } from '../../src/observe/log-file.js';

const dirs: string[] = [];
function dir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'supervise-logfile-'));
  dirs.push(d);
  return d;
}

afterEach(() => {
  vi.useRealTimers();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('LogFile', () => {
  it('rotates before a line would pass the size, keeps `keep` files, and never splits a line', () => {
    const d = dir();
    const file = new LogFile(path.join(d, 'a.log'), { maxBytes: 25, maxAgeMs: 0, keep: 2 }, () => {});
    for (let i = 0; i < 10; i++) file.write(`line ${i} 0123456789\n`);
    file.close();
    expect(readdirSync(d).sort()).toEqual(['a.log', 'a.log.1', 'a.log.2']);
    expect(readFileSync(path.join(d, 'a.log'), 'utf8')).toBe('line 9 0123456789\n');
    expect(readFileSync(path.join(d, 'a.log.1'), 'utf8')).toBe('line 8 0123456789\n');
    expect(readFileSync(path.join(d, 'a.log.2'), 'utf8')).toBe('line 7 0123456789\n');
  });

  it('keep 0: the full file is deleted, not renamed', () => {
    const d = dir();
    const file = new LogFile(path.join(d, 'a.log'), { maxBytes: 10, maxAgeMs: 0, keep: 0 }, () => {});
    file.write('first line\n');
    file.write('second line\n');
    file.close();
    expect(readdirSync(d)).toEqual(['a.log']);
    expect(readFileSync(path.join(d, 'a.log'), 'utf8')).toBe('second line\n');
  });

  it('rotates a file older than the age at its next line', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
    const d = dir();
    const file = new LogFile(path.join(d, 'a.log'), { maxBytes: 0, maxAgeMs: 60_000, keep: 3 }, () => {});
    file.write('old\n');
    vi.setSystemTime(new Date('2026-01-01T00:00:59Z'));
    file.write('still the same file\n');
    vi.setSystemTime(new Date('2026-01-01T00:01:00Z'));
    file.write('new\n');
    file.close();
    expect(readFileSync(path.join(d, 'a.log.1'), 'utf8')).toBe('old\nstill the same file\n');
    expect(readFileSync(path.join(d, 'a.log'), 'utf8')).toBe('new\n');
  });

  it('reopen(): after the file was moved away, new lines go to a new file at the path', () => {
    const d = dir();
    const file = new LogFile(path.join(d, 'a.log'), { maxBytes: 0, maxAgeMs: 0, keep: 1 }, () => {});
    file.write('before\n');
    renameSync(path.join(d, 'a.log'), path.join(d, 'moved'));
    file.write('still into the moved file\n');
    file.reopen();
    file.write('after\n');
    file.close();
    expect(readFileSync(path.join(d, 'moved'), 'utf8')).toBe('before\nstill into the moved file\n');
    expect(readFileSync(path.join(d, 'a.log'), 'utf8')).toBe('after\n');
  });

  it('a write that fails is said once and dropped, never thrown', () => {
    const d = dir();
    const warnings: string[] = [];
    const file = new LogFile(path.join(d, 'a.log'), { maxBytes: 0, maxAgeMs: 0, keep: 1 }, (m) => warnings.push(m));
    rmSync(d, { recursive: true, force: true });
    file.reopen();
    file.write('lost\n');
    file.write('lost too\n');
    expect(warnings).toEqual([
      `supervise: log file ${path.join(d, 'a.log')}: ENOENT; lines are dropped until it can be written again\n`,
    ]);
  });
});
