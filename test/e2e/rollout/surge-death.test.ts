/**
 * `--surge 2`: a replacement that was ready and died while the other one of its batch booted (issue 27). It is
 * not promoted: the rollout rolls back that slot, and `status`, `/health` and the rollout's report agree with the
 * workers that run.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { get, pidsAnswering } from '../../helpers/http.js';
import { fixture, freePort, isAlive, killAll, runCli, supervise, tempDir, waitGone } from '../../helpers/supervise.js';

afterEach(() => killAll());

describe('rollout: a replacement that dies after it was ready', () => {
  it('--surge 2: it is not promoted; the rollout rolls back, status and /health agree with what runs', async () => {
    const dir = tempDir('supervise-surge-');
    const mode = path.join(dir, 'MODE');
    writeFileSync(mode, 'ok\n');
    const control = path.join(dir, 'ctl.sock');
    const [port, health] = [await freePort(), await freePort()];
    const s = supervise(
      [
        fixture('faults/fault-app.js'),
        '-w',
        '2',
        '--surge',
        '2',
        '--control',
        control,
        '--health-port',
        String(health),
      ],
      { env: { PORT: String(port), MODE_FILE: mode } },
    );
    await s.ready();
    const old = s.forkedPids();

    writeFileSync(mode, 'die-after-ready\n');
    s.signal('SIGHUP');
    const end = await s.waitEvent('rollout.end', undefined, 20_000);
    const dead = end.failedPid as number;
    expect(end).toMatchObject({ generation: 2, outcome: 'rolled-back', replaced: 1, failedSlot: 0 });
    // It had been ready: this is the case a ready-only check promotes.
    expect(s.events('worker.state').some((l) => l.pid === dead && l.to === 'ready')).toBe(true);
    expect(String(end.msg)).toContain(`worker ${dead} exited with code 1 after it was ready, before it took its slot`);

    // What runs: slot 0's old worker and slot 1's new one; everyone says so.
    const fresh = s.forkedPids().filter((p) => !old.includes(p) && p !== dead);
    expect(fresh).toHaveLength(1);
    const oldSlot0 = s.events('worker.fork').find((l) => l.slot === 0 && l.generation === 1)!.pid as number;
    const serving = [oldSlot0, fresh[0]!];
    expect(serving.every(isAlive)).toBe(true);
    const status = JSON.parse((await runCli(['status', '--json', '--control', control])).stdout) as {
      master: { ready: number; workers: number };
      workers: { pid: number; state: string }[];
    };
    expect(status.master).toMatchObject({ ready: 2, workers: 2 });
    const ready = status.workers.filter((w) => w.state === 'ready').map((w) => w.pid);
    expect(ready.sort()).toEqual([...serving].sort());
    expect([...(await pidsAnswering(port, 12))].sort()).toEqual([...serving].sort());
    const h = await get(health, '/health');
    expect(h.status).toBe(200);
    expect(JSON.parse(h.body)).toMatchObject({ status: 'ok', ready: 2 });

    s.signal('SIGTERM');
    expect((await s.waitExit(10_000)).code).toBe(0);
    await waitGone([s.pid, ...s.forkedPids()]);
  });
});
