/**
 * Issue 31: `--env` as a PM2 user types it. KEY=VALUE adds to the ecosystem file's env (its PORT stays), a bare
 * word picks the file's env_<word> block, and a block the file lacks is one line.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { get } from '../../helpers/http.js';
import { freePort, killAll, runCli, supervise, tempDir } from '../../helpers/supervise.js';

afterEach(() => killAll());

const APP = `require('node:http')
  .createServer((_req, res) => {
    const { PORT, FOO, BAR } = process.env;
    res.end(JSON.stringify({ PORT, FOO, BAR }));
  })
  .listen(Number(process.env.PORT || 3000), '127.0.0.1');
`;

/** A project with the app and a PM2 file whose env sets PORT, and an env_production block. */
async function project(): Promise<{ dir: string; port: number }> {
  const dir = tempDir('supervise-env-');
  const port = await freePort();
  writeFileSync(path.join(dir, 'app.js'), APP);
  writeFileSync(
    path.join(dir, 'ecosystem.config.js'),
    `module.exports = { apps: [{ name: 'api', script: 'app.js', instances: 1,
      env: { PORT: ${port}, FOO: 'file' }, env_production: { FOO: 'prod', BAR: 'prod-bar' } }] };\n`,
  );
  return { dir, port };
}

async function envOf(port: number): Promise<Record<string, string>> {
  return JSON.parse((await get(port)).body) as Record<string, string>;
}

describe('--env with a PM2 ecosystem file', () => {
  it('--env KEY=VALUE adds to the file env: the file PORT survives, the flag wins for its key', async () => {
    const { dir, port } = await project();
    const s = supervise(['ecosystem.config.js', '--env', 'FOO=flag', '--env', 'BAR=b'], { cwd: dir });
    await s.ready();
    expect(await envOf(port)).toEqual({ PORT: String(port), FOO: 'flag', BAR: 'b' });
  });

  it('--env production applies env_production over env, as PM2 does; KEY=VALUE still wins', async () => {
    const { dir, port } = await project();
    const s = supervise(['ecosystem.config.js', '--env', 'production', '--env', 'BAR=flag'], { cwd: dir });
    await s.ready();
    expect(await envOf(port)).toEqual({ PORT: String(port), FOO: 'prod', BAR: 'flag' });
    const notes = s.events('config.note').map((l) => String(l.msg));
    expect(notes.some((n) => n.includes('env_production'))).toBe(false);
  });

  it('an environment the file does not have: one line naming the block, exit 2', async () => {
    const { dir } = await project();
    const r = await runCli(['ecosystem.config.js', '--env', 'staging'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'supervise: ecosystem.config.js: --env staging selects the env_staging block of a PM2 ecosystem file, and apps[0] has only env_production; set variables with --env KEY=VALUE\n',
    );
    const none = await runCli(['app.js', '--env', 'production'], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(
      /^supervise: --env production selects the env_production block .* no config file was given; .*\n$/,
    );
  });
});
