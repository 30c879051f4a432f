/**
 * Issue 31: a PM2 file not named ecosystem*.config.js was run as the app (silence, readiness timeouts, exit 3
 * minutes later). It is recognised by its content, in each form the loader reads.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { get } from '../../helpers/http.js';
import { fixture, freePort, killAll, runCli, supervise, tempDir } from '../../helpers/supervise.js';

afterEach(() => killAll());

const app = JSON.stringify(fixture('rollout/env-app.js'));

describe('PM2 files by content', () => {
  it('eco2.config.js (module.exports = { apps }) is the configuration, not the app', async () => {
    const dir = tempDir('supervise-eco2-');
    const port = await freePort();
    writeFileSync(
      path.join(dir, 'eco2.config.js'),
      `// deploy settings\nmodule.exports = {\n  apps: [{ name: 'api', script: ${app}, instances: 2, env: { PORT: ${port}, FOO: 'eco2' } }],\n};\n`,
    );
    const s = supervise(['eco2.config.js'], { cwd: dir });
    const loaded = await s.waitEvent('config.loaded');
    expect(loaded.file).toBe(path.join(dir, 'eco2.config.js'));
    const ready = await s.ready();
    expect(ready.workers).toBe(2);
    expect((JSON.parse((await get(port)).body) as { FOO: string }).FOO).toBe('eco2');
  });

  it('the ESM and JSON forms too, under any name; an app that merely exports an object is still the app', async () => {
    const dir = tempDir('supervise-eco-forms-');
    writeFileSync(
      path.join(dir, 'deploy.mjs'),
      `const apps = [{ name: 'esm-api', script: ${app} }];\nexport default { apps };\n`,
    );
    writeFileSync(
      path.join(dir, 'procs.json'),
      JSON.stringify({ apps: [{ name: 'json-api', script: fixture('rollout/env-app.js') }] }),
    );
    writeFileSync(path.join(dir, 'server.js'), `module.exports = { start() { return { apps: [] }; } };\n`);
    const esm = await runCli(['systemd', 'deploy.mjs'], { cwd: dir });
    expect(esm.code).toBe(0);
    expect(esm.stdout).toMatch(/^Description=esm-api under supervise/m);
    const json = await runCli(['systemd', 'procs.json'], { cwd: dir });
    expect(json.code).toBe(0);
    expect(json.stdout).toMatch(/^Description=json-api under supervise/m);
    const plain = await runCli(['systemd', 'server.js'], { cwd: dir });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^Description=server\.js under supervise/m);
  });
});
