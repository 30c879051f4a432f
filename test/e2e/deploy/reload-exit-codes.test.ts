import { realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { freePort, killAll, runCli, supervise, tempDir } from '../../helpers/supervise.js';

afterEach(() => killAll());

const GOOD = `require('node:http')
  .createServer((req, res) => res.end(String(process.pid)))
  .listen(Number(process.env.PORT), '127.0.0.1');
`;
const THROWS = `throw new Error('boom at boot');\n`;
/** Never listens, so never ready: the rollout waits for it up to --ready-timeout. */
const HANGS = `setInterval(() => {}, 1000);\n`;

describe('`supervise reload --wait-drained --timeout`: what a deploy script can trust', () => {
  it('exits 0 for a good release, 1 for one that throws at boot, 2 for a broken config, 124 at the timeout', async () => {
    const dir = realpathSync(tempDir('supervise-reload-'));
    const app = path.join(dir, 'app.js');
    const config = path.join(dir, 'supervise.config.json');
    writeFileSync(app, GOOD);
    writeFileSync(config, JSON.stringify({ workers: 2, readyTimeoutMs: 60_000 }));
    const env = { PORT: String(await freePort()), XDG_RUNTIME_DIR: path.join(dir, 'run') };
    const s = supervise(['app.js'], { cwd: dir, env });
    await s.ready();
    const ctl = (...args: string[]) => runCli(['reload', ...args], { cwd: dir, env });

    // A good release: one line per new worker and per old one gone, then the summary and where it serves from.
    const before = s.forkedPids();
    const good = await ctl('--wait-drained', '--timeout', '30s');
    expect(good.code, good.stderr).toBe(0);
    const lines = good.stdout.trim().split('\n');
    expect(lines.filter((l) => /^slot \d: worker \d+ ready \(generation 2, node v[\d.]+, /.test(l))).toHaveLength(2);
    for (const pid of before)
      expect(lines).toContain(`slot ${before.indexOf(pid)}: old worker ${pid} drained and exited`);
    expect(lines.at(-2)).toMatch(/^rollout 2 done: 2 workers replaced in \d+ ms; the old workers drained and exited/);
    expect(lines.at(-1)).toBe(`serving from ${dir}`);

    // --json: stdout is one object, with every new worker's release and node; the progress went to stderr.
    const json = await ctl('--wait-drained', '--json');
    expect(json.code, json.stderr).toBe(0);
    const r = JSON.parse(json.stdout) as { outcome: string; workers: { pid: number; release: string; node: string }[] };
    expect(r.outcome).toBe('done');
    expect(r.workers.map((w) => [w.release, w.node])).toEqual([
      [dir, process.version],
      [dir, process.version],
    ]);
    expect(json.stderr.trim().split('\n')).toHaveLength(4);

    // A release that throws at boot: rolled back, exit 1, one line.
    writeFileSync(app, THROWS);
    const thrown = await ctl('--wait-drained', '--timeout', '30s');
    expect(thrown.code).toBe(1);
    expect(thrown.stderr).toMatch(
      /^supervise: rollout 4 rolled back after 0 replaced: .*boom at boot.*the old workers keep serving\n$/,
    );

    // A broken config: refused, nothing restarted, exit 2. (The client reads the file too, for its `control`
    // key, so it may be the one that says so.)
    writeFileSync(app, GOOD);
    writeFileSync(config, JSON.stringify({ workers: 'lots' }));
    const rollouts = s.events('rollout.start').length;
    const broken = await ctl('--wait-drained', '--timeout', '30s');
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(
      /^supervise: (reload refused, nothing was restarted: )?supervise\.config\.json: workers must be .*"lots"\n$/,
    );
    expect(s.events('rollout.start')).toHaveLength(rollouts);

    // A release whose workers never get ready: the client stops waiting at --timeout, exit 124.
    writeFileSync(config, JSON.stringify({ workers: 2, readyTimeoutMs: 60_000 }));
    writeFileSync(app, HANGS);
    const slow = await ctl('--wait-drained', '--timeout', '1s');
    expect(slow.code).toBe(124);
    expect(slow.stderr).toMatch(/^supervise: reload: no result within 1s \(the rollout goes on in the master/);
    expect(slow.stderr.trim().split('\n')).toHaveLength(1);
  });
});
