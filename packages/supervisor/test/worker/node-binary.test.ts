import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { checkNode, checkSerialization, withExecPath } from '../../src/worker/node-binary.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'supervise-node-bin-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function script(name: string, body: string, mode = 0o755): string {
  const file = path.join(tmp, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, mode);
  return file;
}

describe('checkNode', () => {
  it("resolves with this node's version", async () => {
    expect(await checkNode(process.execPath)).toBe(process.version);
  });

  it('refuses in one line: missing, not executable, failing, not a node, too old', async () => {
    const cases: [string, RegExp][] = [
      [path.join(tmp, 'missing'), /--node .*missing: no such file$/],
      [script('plain', 'echo v22.0.0', 0o644), /--node .*plain: not executable$/],
      [script('fails', 'echo "bad option" >&2; exit 3'), /--node .*fails: --version failed: bad option$/],
      [
        script('other', 'echo Python 3.11'),
        /--node .*other: does not look like node \(--version printed "Python 3.11"\)$/,
      ],
      [script('old', 'echo v18.20.4'), /--node .*old: is node v18.20.4; the workers need node >= 20.19$/],
      [script('old-minor', 'echo v20.18.0'), /--node .*old-minor: is node v20.18.0; the workers need node >= 20.19$/],
    ];
    for (const [bin, why] of cases) await expect(checkNode(bin)).rejects.toThrow(why);
    expect(await checkNode(script('new', 'echo v24.1.0'))).toBe('v24.1.0');
  });
});

describe('checkSerialization', () => {
  it('with advanced IPC the major version must be the master’s; JSON works across versions', () => {
    const other = `v${Number(process.version.slice(1).split('.')[0]) + 2}.0.0`;
    expect(() => checkSerialization('/x/node', other, 'json')).not.toThrow();
    expect(() => checkSerialization('/x/node', process.version, 'advanced')).not.toThrow();
    expect(() => checkSerialization('/x/node', other, 'advanced')).toThrow(/same major version/);
  });
});

describe('withExecPath', () => {
  it('sets process.execPath for the fork only, and restores it even when the fork throws', () => {
    const own = process.execPath;
    expect(withExecPath('/opt/node22/bin/node', () => process.execPath)).toBe('/opt/node22/bin/node');
    expect(process.execPath).toBe(own);
    expect(() =>
      withExecPath('/opt/node22/bin/node', () => {
        throw new Error('fork failed');
      }),
    ).toThrow('fork failed');
    expect(process.execPath).toBe(own);
    expect(withExecPath(null, () => process.execPath)).toBe(own);
  });
});
