import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { load, until } from '../../helpers/http.js';
import { node22 } from '../../helpers/node22.js';
import { freePort, killAll, runCli, supervise, tempDir } from '../../helpers/supervise.js';

afterEach(() => killAll());

const found = node22();
if (!found.bin) console.warn(`node-version test skipped: ${found.why}`);

const APP = `require('node:http')
  .createServer((req, res) => res.end(String(process.pid)))
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

describe('--node: the workers move to another Node with a reload', () => {
  it.skipIf(!found.bin)('under keep-alive load: 0 failed requests, every new worker on the new Node', async () => {
    const bin = found.bin!;
    const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
    expect(version).not.toBe(process.version);
    const dir = tempDir('supervise-node-');
    writeFileSync(path.join(dir, 'app.js'), APP);
    const config = path.join(dir, 'supervise.config.json');
    writeFileSync(config, JSON.stringify({ workers: 2, healthPort: 0 }));
    const port = await freePort();
    const env = { PORT: String(port), XDG_RUNTIME_DIR: path.join(dir, 'run') };
    const s = supervise(['app.js'], { cwd: dir, env });
    await s.ready();
    const ctl = (args: string[]) => runCli(args, { cwd: dir, env });
    const before = new Set(s.forkedPids());

    const traffic = load(port, { connections: 10, maxMs: 30_000, maxRequests: 100_000 });
    await until(() => traffic.result.ok > 100, 10_000, 'load to warm up');
    writeFileSync(config, JSON.stringify({ workers: 2, healthPort: 0, node: bin }));
    const reload = await ctl(['reload', '--wait-drained']);
    expect(reload.code, reload.stderr).toBe(0);
    const okAtEnd = traffic.result.ok;
    await until(() => traffic.result.ok > okAtEnd + 100, 10_000, 'load after the rollout');
    const result = await traffic.stop();
    expect(result.errors).toEqual([]);
    expect(result.failed).toBe(0);

    const status = JSON.parse((await ctl(['status', '--json'])).stdout) as {
      master: { node: string };
      workers: { pid: number; node: string }[];
    };
    expect(status.master.node).toBe(process.version);
    expect(status.workers).toHaveLength(2);
    for (const w of status.workers) {
      expect(before.has(w.pid)).toBe(false);
      expect(w.node).toBe(version);
    }
    // The new workers served the load (their pids answered), and their ready lines name the Node they run.
    expect(status.workers.some((w) => result.pids.has(w.pid))).toBe(true);
    const readyLines = s.events('worker.state').filter((l) => l.to === 'ready' && l.generation === 2);
    expect(readyLines.map((l) => l.node)).toEqual([version, version]);
    const health = await s.waitEvent('health.listening');
    const metrics = await (await fetch(`http://127.0.0.1:${health.port as number}/metrics`)).text();
    for (const w of status.workers)
      expect(metrics).toMatch(
        new RegExp(`supervise_worker_info\\{[^}]*pid="${w.pid}"[^}]*node="${version}"[^}]*\\} 1`),
      );
    console.info(`--node reload under load: ${result.ok} requests answered, ${result.failed} failed`);

    // A binary that is not there, or not a node: refused in one line before anything is replaced.
    for (const [node, why] of [
      [path.join(dir, 'no-node'), /--node .*no-node: no such file/],
      ['/bin/true', /--node \/bin\/true: does not look like node/],
    ] as const) {
      writeFileSync(config, JSON.stringify({ workers: 2, healthPort: 0, node }));
      const refused = await ctl(['reload']);
      expect(refused.code).toBe(2);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      expect(refused.stderr).toMatch(why);
    }
    expect(s.servingPids().sort()).toEqual(status.workers.map((w) => w.pid).sort());
    s.signal('SIGTERM');
    expect((await s.waitExit()).code).toBe(0);
  });
});
