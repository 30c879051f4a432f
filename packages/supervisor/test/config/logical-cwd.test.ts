import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { logicalCwd, resolvedNow } from '../../src/config/logical-cwd.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'supervise-logical-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('logicalCwd', () => {
  const here = process.cwd();
  const link = path.join(tmp, 'current');
  symlinkSync(here, link);

  it('is $PWD when it names the directory we are in through a symlink (pwd -L)', () => {
    expect(logicalCwd({ PWD: link })).toBe(link);
    expect(logicalCwd({ PWD: `${link}/` })).toBe(link);
    expect(resolvedNow(link)).toBe(here);
  });

  it('is the physical directory when $PWD is missing, relative, stale or has dot segments', () => {
    expect(logicalCwd({})).toBe(here);
    expect(logicalCwd({ PWD: 'current' })).toBe(here);
    expect(logicalCwd({ PWD: tmp })).toBe(here);
    expect(logicalCwd({ PWD: path.join(tmp, 'gone') })).toBe(here);
    expect(logicalCwd({ PWD: `${link}/../current` })).toBe(here);
  });

  it('resolvedNow is null once the path leads nowhere', () => {
    expect(resolvedNow(path.join(tmp, 'gone'))).toBeNull();
  });
});
