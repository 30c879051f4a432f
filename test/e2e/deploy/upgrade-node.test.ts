import { execFileSync } from 'node:child_process';

import { afterEach, describe, expect, it } from 'vitest';

import { load, until } from '../../helpers/http.js';
import { node22 } from '../../helpers/node22.js';
import { killAll } from '../../helpers/supervise.js';
import { masterInDir, upgradeDone } from '../../helpers/master-in-dir.js';

afterEach(() => killAll());

const found = node22();
if (!found.bin) console.warn(`upgrade --node test skipped: ${found.why}`);

const APP = `require('node:http')
  .createServer((req, res) => res.end(String(process.pid)))
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

interface Status {
  master: { pid: number; node: string };
  workers: { pid: number; node: string }[];
}

describe('supervise upgrade --node: the master itself moves to another Node', () => {
  it.skipIf(!found.bin)(
    'the new master and its workers run the new Node; 0 failed requests',
    async () => {
      const bin = found.bin!;
      const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
      expect(version).not.toBe(process.version);
      const { port, s, ctl } = await masterInDir('supervise-upgrade-node-', ['app.js', '-w', '2'], {
        files: { 'app.js': APP },
      });
      await s.ready();
      const before = JSON.parse((await ctl(['status', '--json'])).stdout) as Status;
      expect(before.master.node).toBe(process.version);

      const traffic = load(port, { connections: 8, maxMs: 30_000, maxRequests: 100_000 });
      await until(() => traffic.result.ok > 100, 10_000, 'load to warm up');
      const { run } = await upgradeDone(ctl, before, { args: ['--node', bin], goneMs: 15_000 });
      expect(run.stdout).toContain(`(node ${version})`);
      const ok = traffic.result.ok;
      await until(() => traffic.result.ok > ok + 100, 10_000, 'load on the new master');
      const result = await traffic.stop();
      expect(result.errors).toEqual([]);
      expect(result.failed).toBe(0);

      const after = JSON.parse((await ctl(['status', '--json'])).stdout) as Status;
      expect(after.master.node).toBe(version);
      expect(after.workers.map((w) => w.node)).toEqual([version, version]);
      // The new workers served the load after the old ones had gone.
      expect(after.workers.some((w) => result.pids.has(w.pid))).toBe(true);
      console.info(`upgrade to ${version} under load: ${result.ok} answered, ${result.failed} failed`);
      expect((await ctl(['stop'])).code).toBe(0);
    },
    60_000,
  );
});
