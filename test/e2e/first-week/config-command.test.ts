/**
 * Issue 31: nothing printed the options in effect, and ignored PM2 keys were named at info level. `supervise
 * config` asks the running master (its options after scales and reloads, each with its origin); with arguments,
 * or with no master but a config file here, it computes them without starting anything.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import type { ConfigReply } from '../../../packages/supervisor/src/control/reply.js';
import { fixture, freePort, killAll, runCli, supervise, tempDir } from '../../helpers/supervise.js';

afterEach(() => killAll());

const origin = (reply: ConfigReply, key: string) => reply.options.find((o) => o.key === key);

describe('supervise config', () => {
  it('from a running master: values and origins (flag, file, default, scale); ignored PM2 keys at warn', async () => {
    const dir = tempDir('supervise-cfg-');
    const port = await freePort();
    writeFileSync(
      path.join(dir, 'ecosystem.config.js'),
      `module.exports = { apps: [{ name: 'api', script: ${JSON.stringify(fixture('rollout/env-app.js'))}, instances: 1, wait_ready: true, env: { PORT: ${port} } }] };\n`,
    );
    const s = supervise(['ecosystem.config.js', '--kill-timeout', '5s'], { cwd: dir });
    await s.ready();
    const warned = s.events('config.note').find((l) => String(l.msg).includes('ignored wait_ready'));
    expect(warned?.level).toBe(40);
    expect((await runCli(['scale', '2'], { cwd: dir })).code).toBe(0);

    const r = await runCli(['config', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const reply = JSON.parse(r.stdout) as ConfigReply;
    expect(reply.master?.pid).toBe(s.pid);
    expect(reply.file).toBe(path.join(dir, 'ecosystem.config.js'));
    expect(reply.app).toBe('api');
    expect(reply.ignored.some((i) => i.startsWith('wait_ready: '))).toBe(true);
    expect(origin(reply, 'workers')).toMatchObject({ flag: '--workers', value: 2, origin: 'scale' });
    expect(origin(reply, 'killTimeoutMs')).toMatchObject({ value: 5000, origin: 'flag' });
    expect(origin(reply, 'env')).toMatchObject({ value: { PORT: String(port) }, origin: 'file' });
    expect(origin(reply, 'surge')).toMatchObject({ value: 1, origin: 'default' });

    const text = await runCli(['config'], { cwd: dir });
    expect(text.stdout.split('\n')[0]).toBe(
      `master ${s.pid} in ${dir}, config file ${path.join(dir, 'ecosystem.config.js')} (app api)`,
    );
    expect(text.stdout).toMatch(/^--workers +2 +supervise scale$/m);
    expect(text.stdout).toMatch(/^ {2}wait_ready: /m);
  });

  it('without a master: the options a run with these arguments would use, nothing started', async () => {
    const dir = tempDir('supervise-cfg-local-');
    writeFileSync(
      path.join(dir, 'supervise.config.json'),
      JSON.stringify({ script: fixture('rollout/env-app.js'), workers: 2 }),
    );
    const here = await runCli(['config'], { cwd: dir });
    expect(here.code).toBe(0);
    expect(here.stdout).toMatch(/^no master asked: /);
    expect(here.stdout).toMatch(/^--workers +2 +config file$/m);
    const flags = await runCli(['config', '-w', '3', '--json'], { cwd: dir });
    const reply = JSON.parse(flags.stdout) as ConfigReply;
    expect(reply.master).toBeNull();
    expect(origin(reply, 'workers')).toMatchObject({ value: 3, origin: 'flag' });
    const bad = await runCli(['config', '-w', 'many'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });
});
