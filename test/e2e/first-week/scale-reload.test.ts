/**
 * Issue 31: `supervise scale 3`, then `supervise reload`, scaled back to the file's `instances` without a word.
 * A runtime scale now holds through reloads until the configuration's own count changes, and the log says which
 * source decided the count.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { fixture, freePort, killAll, runCli, supervise, tempDir } from '../../helpers/supervise.js';

afterEach(() => killAll());

function ecosystem(dir: string, port: number, instances: number): void {
  writeFileSync(
    path.join(dir, 'ecosystem.config.js'),
    `module.exports = { apps: [{ name: 'api', script: ${JSON.stringify(fixture('rollout/env-app.js'))}, instances: ${instances}, env: { PORT: ${port} } }] };\n`,
  );
}

async function workers(sock: string): Promise<number> {
  const r = await runCli(['status', '--json', '--control', sock]);
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { master: { workers: number } }).master.workers;
}

async function reload(sock: string): Promise<void> {
  const r = await runCli(['reload', '--control', sock]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}

describe('scale and reload', () => {
  it('a runtime scale survives reloads until the file count changes; the log names the source', async () => {
    const dir = tempDir('supervise-scale-');
    const port = await freePort();
    ecosystem(dir, port, 2);
    const s = supervise(['ecosystem.config.js'], { cwd: dir });
    await s.ready();
    expect(s.events('workers.source').map((l) => l.source)).toEqual(['file']);
    const sock = (await s.waitEvent('control.listening')).path as string;
    const scaled = await runCli(['scale', '3', '--control', sock]);
    expect(scaled.stdout).toBe('scaled from 2 to 3 workers\n');

    await reload(sock);
    expect(await workers(sock)).toBe(3);
    const kept = s.events('workers.source').at(-1)!;
    expect(kept.source).toBe('scale');
    expect(kept.msg).toMatch(/^3 workers, from `supervise scale`: kept, since the config file still asks for 2/);

    // The file's own count changes: it decides again.
    ecosystem(dir, port, 1);
    const mark = s.lines.length;
    await reload(sock);
    const changed = await s.waitFor((l) => l.event === 'workers.source', 15_000, mark);
    expect(changed.msg).toBe('1 worker, from the config file (it asked for 2 before)');
    // The master scales once the reload's rollout is done (after its answer): wait for that line.
    await s.waitFor((l) => l.event === 'scale' && l.to === 1, 15_000, mark);
    expect(await workers(sock)).toBe(1);
  });
});
