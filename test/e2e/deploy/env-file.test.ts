import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { get } from '../../helpers/http.js';
import { freePort, killAll, runCli, supervise, tempDir } from '../../helpers/supervise.js';

afterEach(() => killAll());

const APP = `require('node:http')
  .createServer((req, res) => res.end([process.env.GREETING, process.env.COLOR, process.env.QUOTED].join('|')))
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

async function answers(port: number, n = 8): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < n; i++) out.add((await get(port)).body);
  return out;
}

describe('--env-file', () => {
  it('is read again at every reload, --env wins over it, and a missing file refuses the reload', async () => {
    const dir = tempDir('supervise-envfile-');
    writeFileSync(path.join(dir, 'app.js'), APP);
    const envFile = path.join(dir, '.env');
    writeFileSync(envFile, '# first release\nGREETING=one\nCOLOR=red\nQUOTED="a b # c"\n');
    const port = await freePort();
    const env = { PORT: String(port), XDG_RUNTIME_DIR: path.join(dir, 'run') };
    const s = supervise(['app.js', '-w', '2', '--env-file', '.env', '--env', 'COLOR=blue'], { cwd: dir, env });
    await s.ready();
    expect(await answers(port)).toEqual(new Set(['one|blue|a b # c']));

    writeFileSync(envFile, 'GREETING=two\nCOLOR=green\n');
    const ctl = (args: string[]) => runCli(args, { cwd: dir, env });
    const reload = await ctl(['reload']);
    expect(reload.code, reload.stderr).toBe(0);
    expect(await answers(port)).toEqual(new Set(['two|blue|']));

    // Gone: the reload is refused in one line (exit 2), nothing is replaced, the workers keep their values.
    rmSync(envFile);
    const serving = s.servingPids().sort();
    const refused = await ctl(['reload']);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/reload refused, nothing was restarted: --env-file .*\.env: no such file/);
    expect(s.servingPids().sort()).toEqual(serving);
    expect(await answers(port)).toEqual(new Set(['two|blue|']));

    // Back: the next reload takes it.
    writeFileSync(envFile, 'GREETING=three\n');
    expect((await ctl(['reload'])).code).toBe(0);
    expect(await answers(port)).toEqual(new Set(['three|blue|']));
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
  });

  it('a missing file at the start is one line and exit 2, before any worker starts', async () => {
    const dir = tempDir('supervise-envfile-');
    writeFileSync(path.join(dir, 'app.js'), APP);
    writeFileSync(path.join(dir, 'supervise.config.json'), JSON.stringify({ envFile: 'nope.env' }));
    const env = { PORT: String(await freePort()), XDG_RUNTIME_DIR: path.join(dir, 'run') };
    const fromConfig = supervise(['app.js', '-w', '1'], { cwd: dir, env });
    expect((await fromConfig.waitExit()).code).toBe(2);
    expect(fromConfig.stderr).toBe(`supervise: --env-file ${path.join(dir, 'nope.env')}: no such file\n`);
    expect(fromConfig.forkedPids()).toEqual([]);

    // The flag: node itself scans every argument for --env-file, the script's too (nodejs/node#54232), and exits
    // 9 on a missing file before supervise runs. Either way: one line, nothing started.
    rmSync(path.join(dir, 'supervise.config.json'));
    const fromFlag = supervise(['app.js', '-w', '1', '--env-file', 'nope.env'], { cwd: dir, env });
    const { code } = await fromFlag.waitExit();
    if (code === 9) expect(fromFlag.stderr).toMatch(/^\S*node: nope\.env: not found\n$/);
    else {
      expect(code).toBe(2);
      expect(fromFlag.stderr).toBe(`supervise: --env-file ${path.join(dir, 'nope.env')}: no such file\n`);
    }
    expect(fromFlag.forkedPids()).toEqual([]);
  });
});
