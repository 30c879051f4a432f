import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { readEnvFiles } from '../../../src/worker/env/env-file.js';
import { workerEnv } from '../../../src/worker/env/worker-env.js';
import { resolveOptions } from '../../../src/config/options.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'supervise-envfile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('readEnvFiles', () => {
  it("parses with node's parser; a later file wins over an earlier one", () => {
    const a = path.join(tmp, 'a.env');
    const b = path.join(tmp, 'b.env');
    writeFileSync(a, '# shared\nexport A=1\nB="two words"\nC=from-a\n');
    writeFileSync(b, "C='from-b'\n");
    expect(readEnvFiles([a, b])).toEqual({ A: '1', B: 'two words', C: 'from-b' });
    expect(readEnvFiles([])).toEqual({});
  });

  it('a missing file or a directory is one line that names the file', () => {
    expect(() => readEnvFiles([path.join(tmp, 'nope.env')])).toThrow(/^--env-file .*nope\.env: no such file$/);
    expect(() => readEnvFiles([tmp])).toThrow(/^--env-file .*: is a directory$/);
  });

  it("--env wins over the files; the protocol's own variables win over both", () => {
    writeFileSync(path.join(tmp, 'app.js'), '');
    const o = resolveOptions({ script: 'app.js', cwd: tmp, env: ['COLOR=blue'], workers: 1 });
    const env = workerEnv(o, 0, 3, {}, { COLOR: 'red', SIZE: 'L', SUPERVISE_GENERATION: '99' });
    expect(env).toMatchObject({ COLOR: 'blue', SIZE: 'L', PWD: tmp });
    expect(Object.values(env)).not.toContain('99');
  });
});
